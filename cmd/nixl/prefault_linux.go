package main

import (
	"os"
	"runtime"
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
// asks the kernel to populate the heap ahead of the allocator
// (MADV_POPULATE_WRITE, Linux 5.14 and later), and the evaluator mostly
// finds its fresh pages already there.
//
// Go's heap grows upwards: fresh pages are taken at increasing addresses.
// The helper follows the allocator region by region (prefaultStep): when
// a page of the region after those it populated becomes resident
// (mincore), the allocator has reached it, and the helper populates it
// and the next one, so peak RSS grows by a megabyte at most. Once the
// heap has grown by prefaultFar, the helper populates
// all that Go has mapped (chunks of 4 MiB or more; the kernel refuses
// beyond), to stay ahead of an allocator that takes fresh memory faster
// than a region per poll. Measured in testdata/bench (2026-11-26, 9–15
// alternated runs each, against no helper): modules −5..−17%, overlays
// −2..−15%, json −5..−15%, lists −4..−6%, drvs −6%, CPU time unchanged
// (the work moves to the idle core); peak RSS +1–4 MB, attrs and lists
// +9–13 MB. NIXL_PREFAULT=0 turns it off.
const (
	madvPopulateWrite = 23 // MADV_POPULATE_WRITE
	prefaultStep      = 512 << 10
	prefaultFar       = 32 << 20
	prefaultIdleMin   = 100 * time.Microsecond
	prefaultIdleMax   = 5 * time.Millisecond
)

// startPrefault starts the helper for a command that only evaluates
// (main's evaluates), unless there is one CPU only, the kernel lacks the
// advice, or the heap is backed by huge pages (NIXL_HUGEPAGES).
func startPrefault(hugePages bool) {
	if hugePages || os.Getenv("NIXL_PREFAULT") == "0" || runtime.GOMAXPROCS(0) < 2 {
		return
	}
	probe := make([]byte, 64<<10) // big enough to come from fresh pages
	start := uintptr(unsafe.Pointer(unsafe.SliceData(probe)))
	if populate(start&^(4096-1), 4096) != nil {
		return // no MADV_POPULATE_WRITE here
	}
	p := &prefaulter{start: start &^ (prefaultStep - 1)}
	p.next = p.start
	go p.run()
}

// prefaulter populates the heap region by region; next is the start of
// the first region it has not populated.
type prefaulter struct {
	start, next uintptr
}

// run follows the heap as it grows, forever (the process exits).
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

// advance populates, while the allocator has reached the next region,
// that region and the one after it, or, once the heap has grown
// prefaultFar, all that Go has mapped; it returns how many bytes it
// asked for.
func (p *prefaulter) advance() uintptr {
	var done uintptr
	if p.next-p.start >= prefaultFar {
		for populate(p.next, prefaultStep) == nil {
			p.next += prefaultStep
			done += prefaultStep
		}
		return done
	}
	for touched(p.next) {
		populate(p.next, 2*prefaultStep) // the part not mapped yet is refused
		p.next += 2 * prefaultStep
		done += 2 * prefaultStep
	}
	return done
}

// touched reports whether any page of the region at addr is in memory:
// the allocator does not always start a region at its first page.
func touched(addr uintptr) bool {
	var vec [prefaultStep / 4096]byte
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, addr, prefaultStep, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return false
	}
	for _, v := range vec {
		if v&1 != 0 {
			return true
		}
	}
	return false
}

// populate faults in [addr, addr+n) as if written, without writing.
func populate(addr, n uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, madvPopulateWrite); errno != 0 {
		return errno
	}
	return nil
}
