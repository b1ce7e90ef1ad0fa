package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The first write to a fresh page of heap costs a page fault: a trap and
// the kernel zeroing 4 KiB, about 0.4 ms per MB on the machine the
// benchmarks run on. An evaluation that allocates a few hundred MB
// spends a tenth to a fifth of its time there (in profiles: memclr under
// initHeapBits, stores into new objects), all of it on the one thread
// that evaluates. So, where there is a second CPU, a helper goroutine
// asks the kernel to populate the heap's address space ahead of the
// allocator (MADV_POPULATE_WRITE, Linux 5.14 and later), and the
// evaluator finds its fresh pages already there.
//
// Go maps its heap in chunks of 4 MiB or more at increasing addresses and
// hands out the lowest free pages first, so the helper starts at a fresh
// allocation and populates step by step as far as Go has mapped (beyond,
// the kernel refuses), then waits for the heap to grow. It starts once
// the heap holds prefaultFrom: a small evaluation is quick anyway, and
// the memory Go has mapped but not yet used, which the helper makes
// resident, would be a large share of its peak. Measured in
// testdata/bench (2026-11-26, 9 alternated runs each): modules −9%,
// overlays −6%, json −9%, lists −4%, attrs −3% wall time, CPU time
// unchanged, peak RSS +2–4 MB (attrs, lists +11–13 MB); the smaller
// workloads never reach prefaultFrom. NIXL_PREFAULT=0 turns it off.
const (
	madvPopulateWrite = 23 // MADV_POPULATE_WRITE
	prefaultStep      = 256 << 10
	prefaultFrom      = 32 << 20
	prefaultIdleMin   = 100 * time.Microsecond
	prefaultIdleMax   = 5 * time.Millisecond
)

// startPrefault starts the helper for a command that only evaluates
// (main's evaluates), unless
// there is one CPU only, the kernel lacks the advice, or the heap is
// backed by huge pages (NIXL_HUGEPAGES).
func startPrefault(hugePages bool) {
	if hugePages || os.Getenv("NIXL_PREFAULT") == "0" || runtime.GOMAXPROCS(0) < 2 {
		return
	}
	probe := make([]byte, prefaultStep)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(probe)))
	if populate(start&^(4096-1), 4096) != nil {
		return // no MADV_POPULATE_WRITE here
	}
	p := &prefaulter{cursor: start &^ (prefaultStep - 1), touched: heapTouched}
	go p.run()
}

// prefaulter populates from cursor upwards once touched says the heap
// is big enough.
type prefaulter struct {
	cursor  uintptr
	touched func() uintptr
}

// run populates as the heap grows, forever (the process exits).
func (p *prefaulter) run() {
	idle := prefaultIdleMin
	for {
		if p.advance() > 0 {
			idle = prefaultIdleMin
		} else {
			idle = min(2*idle, prefaultIdleMax)
		}
		time.Sleep(idle)
	}
}

// advance populates step after step while the range is mapped, and
// returns how many bytes it populated.
func (p *prefaulter) advance() uintptr {
	if p.touched() < prefaultFrom {
		return 0
	}
	var done uintptr
	for populate(p.cursor, prefaultStep) == nil {
		p.cursor += prefaultStep
		done += prefaultStep
	}
	return done
}

var heapClasses = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
}

// heapTouched is the size of the heap memory in use or kept (mapped and
// not released); only the helper calls it.
func heapTouched() uintptr {
	metrics.Read(heapClasses)
	var n uint64
	for _, s := range heapClasses {
		n += s.Value.Uint64()
	}
	return uintptr(n)
}

// populate faults in [addr, addr+n) as if written, without writing.
func populate(addr, n uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, madvPopulateWrite); errno != 0 {
		return errno
	}
	return nil
}
