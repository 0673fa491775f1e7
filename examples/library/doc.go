// Package library shows modelgate as a Go library: the example in
// example_test.go builds a model tree in memory (as an MLflow artifact
// download or an S3 listing would arrive), scans it with one call and acts
// on the typed verdict. Run it with
//
//	go test -run Example -v ./examples/library
package library
