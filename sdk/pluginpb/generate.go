// Package pluginpb holds the protobuf messages and gRPC service of the
// detector plugin protocol (detector.proto). The Go files are generated and
// committed; `go generate ./sdk/pluginpb` reproduces them byte for byte with
// protoc from Debian's protobuf-compiler and the generator versions pinned
// in generate.sh.
package pluginpb

//go:generate bash generate.sh
