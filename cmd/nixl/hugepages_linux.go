package main

import (
	"os"
	"runtime/debug"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NIXL_HUGEPAGES=1 backs the heap with transparent huge pages. An
// evaluation touches fresh heap at a high rate, and with 4 KiB pages every
// fresh page is a fault (attrs.nix took 40,000), while Go asks for no huge
// pages on its heap and most distributions give them only where madvise
// asks (…/transparent_hugepage/enabled is "[madvise]"). So the first
// hugePageReserve bytes of address space the heap will grow into are
// mapped up front, by one big allocation that is never touched, advised
// MADV_HUGEPAGE, freed, and handed back to the kernel (untouched, it costs
// no memory): the heap then reuses that range, and the kernel backs it
// with 2 MiB pages as it is touched. A heap that outgrows the range goes
// on with small pages.
//
// It is off by default because on the machine the benchmarks run on, a
// VM, it does not pay. Run back to back, attrs, lists, modules, overlays
// and strings took 10–25% less wall time; run alternately with
// nix-instantiate, as testdata/bench/compare.sh does, the medians came
// out the same (7 runs each) with a wider spread: some runs spent 0.1–0.4 s
// more in the kernel for the same number of faults. (Our guess: the VM's
// balloon hands free 2 MiB blocks back to the host, and a huge page is
// then first touched on memory the host must supply again.) It also
// costs about 3 ms of start-up and 4–12 MB of peak RSS.
//
// It is skipped where it could hurt: when the kernel uses huge pages
// everywhere or never, under a strict overcommit policy, or under an
// address-space limit (where mapping the range could fail).
const hugePageReserve = 1 << 30

// adviseHugePages sets up the range; it runs once, first thing in main.
// It returns the range's address (0 when skipped), for the test.
func adviseHugePages() uintptr {
	if os.Getenv("NIXL_HUGEPAGES") != "1" || !hugePagesByAdvice() {
		return 0
	}
	start := adviseNewRange()
	// Returning the range to the kernel at once keeps it out of the
	// heap's statistics and the background scavenger's work.
	debug.FreeOSMemory()
	return start
}

// adviseNewRange allocates the range, advises it and drops it.
func adviseNewRange() uintptr {
	b := make([]byte, hugePageReserve)
	if unix.Madvise(b, unix.MADV_HUGEPAGE) != nil {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// hugePagesByAdvice reports whether transparent huge pages are given on
// advice, and mapping the range cannot fail.
func hugePagesByAdvice() bool {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") {
		return false
	}
	if policy, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || strings.TrimSpace(string(policy)) == "2" {
		return false
	}
	var as unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &as); err != nil || as.Cur != unix.RLIM_INFINITY {
		return false
	}
	return true
}
