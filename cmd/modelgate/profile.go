//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes pprof profiles of the real binary on real inputs
// (see test/benchmark) when built with -tags profile:
// MODELGATE_CPUPROFILE and MODELGATE_MEMPROFILE name the files. The tag
// keeps runtime/pprof out of the released binary: linking it turns on the
// runtime's sampling of heap allocations, which costs every run memory.
func startProfiles() (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	runtime.MemProfileRate = 0
	if p := os.Getenv("MODELGATE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return stop, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("cpu profile: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if p := os.Getenv("MODELGATE_MEMPROFILE"); p != "" {
		runtime.MemProfileRate = 4096
		stops = append(stops, func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "modelgate: memory profile:", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "modelgate: memory profile:", err)
			}
		})
	}
	return stop, nil
}
