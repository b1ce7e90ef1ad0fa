package main

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The prefaulter waits for the heap to be big enough, then populates a
// mapped range step by step, stops where the mapping ends, goes on when
// it grows, and leaves what is written there alone.
func TestPrefaulterFollowsTheMapping(t *testing.T) {
	const mb = 1 << 20
	region, err := unix.Mmap(-1, 0, 16*mb, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(region)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	if populate(base, 4096) == nil {
		t.Fatal("populating an inaccessible range succeeded")
	}
	if err := unix.Mprotect(region[:8*mb], unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	if err := populate(base, 4096); err != nil {
		t.Skipf("SKIPPED: this kernel has no MADV_POPULATE_WRITE (%v); the prefaulter stays off", err)
	}
	region[5*mb+3] = 42
	touched := uintptr(prefaultFrom - 1)
	p := &prefaulter{cursor: base, touched: func() uintptr { return touched }}
	if got := p.advance(); got != 0 {
		t.Fatalf("advance populated %d bytes below prefaultFrom", got)
	}
	touched = prefaultFrom
	if got := p.advance(); got != 8*mb {
		t.Fatalf("first advance populated %d bytes, want %d", got, 8*mb)
	}
	if resident := residentPages(t, region[:8*mb]); resident != 8*mb/4096 {
		t.Errorf("%d of %d pages resident after populating", resident, 8*mb/4096)
	}
	if region[5*mb+3] != 42 {
		t.Error("populating changed memory that was written before")
	}
	if got := p.advance(); got != 0 {
		t.Fatalf("advance past the mapping populated %d bytes", got)
	}
	if err := unix.Mprotect(region[8*mb:12*mb], unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	if got := p.advance(); got != 4*mb {
		t.Fatalf("advance after the mapping grew populated %d bytes, want %d", got, 4*mb)
	}
	if resident := residentPages(t, region[12*mb:]); resident != 0 {
		t.Errorf("%d pages resident beyond the mapping", resident)
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
