//go:build !linux

package plugin

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

type identity struct{}

func fileIdentity(string) (identity, error) { return identity{}, nil }

// checkRunning cannot look at the running executable without /proc; the
// file was hashed by go-plugin before exec.
func checkRunning(int, identity) error { return nil }

// limitProcess is a no-op: only Linux can set another process's limits.
// The per-call timeout and the time budget still apply.
func limitProcess(int, Spec) error { return nil }

func killGroup(int) {}
