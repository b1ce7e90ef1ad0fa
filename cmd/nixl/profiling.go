package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole command to the file
// named by NIXL_CPUPROFILE, and at the end an allocation profile (every
// allocation sampled per 64 KiB) to the one named by NIXL_MEMPROFILE, for
// `go tool pprof`; the returned function ends them.
func startProfile() (stop func()) {
	stopCPU := startCPUProfile()
	mem := os.Getenv("NIXL_MEMPROFILE")
	if mem == "" {
		return stopCPU
	}
	runtime.MemProfileRate = 64 << 10
	return func() {
		stopCPU()
		// A heap profile is as of the last collection: one more makes
		// it count every allocation of the run.
		runtime.GC()
		f, err := os.Create(mem)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: NIXL_MEMPROFILE: %v\n", err)
		}
	}
}

func startCPUProfile() (stop func()) {
	name := os.Getenv("NIXL_CPUPROFILE")
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: NIXL_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
