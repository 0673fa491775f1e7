//go:build !profile

package main

// startProfiles does nothing without -tags profile (see profile.go).
func startProfiles() (func(), error) { return func() {}, nil }
