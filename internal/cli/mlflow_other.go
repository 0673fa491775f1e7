//go:build !unix

package cli

func replaceProcess(string, []string) error { return errCannotReplace }
