package main

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The prefaulter populates a region and the next once the first page of
// the region is touched, leaves the rest alone, goes on as more is
// touched, and leaves what is written there alone.
func TestPrefaulterFollowsTheAllocator(t *testing.T) {
	const mb = prefaultStep
	region, err := unix.Mmap(-1, 0, 12*mb, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(region)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	if base%mb != 0 {
		// Regions are aligned in the heap; start at the first boundary.
		skip := mb - base%mb
		region, base = region[skip:], base+skip
	}
	if err := populate(base, 4096); err != nil {
		t.Skipf("SKIPPED: this kernel has no MADV_POPULATE_WRITE (%v); the prefaulter stays off", err)
	}
	p := &prefaulter{start: base, next: base + mb}
	if got := p.advance(); got != 0 {
		t.Fatalf("advance populated %d bytes before anything was touched", got)
	}
	region[mb+100] = 42 // the allocator reaches the second region
	if got := p.advance(); got != 2*mb {
		t.Fatalf("advance populated %d bytes, want %d", got, 2*mb)
	}
	if n := residentPages(t, region[mb:3*mb]); n != 2*mb/4096 {
		t.Errorf("%d of %d pages resident in the populated regions", n, 2*mb/4096)
	}
	if n := residentPages(t, region[3*mb:8*mb]); n != 0 {
		t.Errorf("%d pages resident beyond them", n)
	}
	if region[mb+100] != 42 {
		t.Error("populating changed memory written before")
	}
	region[5*mb+7*4096] = 1 // a jump: not the next region, so no progress
	if got := p.advance(); got != 0 {
		t.Fatalf("advance populated %d bytes while the next region is untouched", got)
	}
	region[3*mb+9*4096] = 1 // not at the region's start
	if got := p.advance(); got != 4*mb {
		t.Fatalf("advance populated %d bytes, want %d (two regions, then two more)", got, 4*mb)
	}
}

// Once the heap has grown prefaultFar, the prefaulter populates all that
// is mapped, and stops where the mapping ends.
func TestPrefaulterPopulatesAllOfABigHeap(t *testing.T) {
	const mb = 1 << 20
	region, err := unix.Mmap(-1, 0, 8*mb, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(region)
	if err := unix.Mprotect(region[:4*mb], unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	if err := populate(base, 4096); err != nil {
		t.Skipf("SKIPPED: this kernel has no MADV_POPULATE_WRITE (%v); the prefaulter stays off", err)
	}
	p := &prefaulter{start: base - prefaultFar, next: base}
	if got := p.advance(); got != 4*mb {
		t.Fatalf("advance populated %d bytes, want the %d mapped", got, 4*mb)
	}
	if n := residentPages(t, region[:4*mb]); n != 4*mb/4096 {
		t.Errorf("%d of %d pages resident", n, 4*mb/4096)
	}
}

func residentPages(t *testing.T, b []byte) int {
	vec := make([]byte, len(b)/4096)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}
