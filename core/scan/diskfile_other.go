//go:build !unix

package scan

import "io"

// openDisk opens a file for scanning (see openWithOS).
func openDisk(path string) (io.ReadCloser, error) { return openWithOS(path) }
