package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// With NIXL_HUGEPAGES=1, after adviseHugePages the heap's next big
// allocation lands in the advised range, and the kernel lists that range
// as huge-page advised ("hg" in smaps' VmFlags). It is off otherwise.
func TestAdviseHugePages(t *testing.T) {
	if !hugePagesByAdvice() {
		t.Skip("SKIPPED: transparent huge pages are not in madvise mode here (or the address space is limited); nothing to advise")
	}
	t.Setenv("NIXL_HUGEPAGES", "")
	if adviseHugePages() != 0 {
		t.Error("huge pages were advised without NIXL_HUGEPAGES=1")
	}
	t.Setenv("NIXL_HUGEPAGES", "1")
	start := adviseHugePages()
	if start == 0 {
		t.Fatal("adviseHugePages did nothing although huge pages are given on advice")
	}
	b := make([]byte, 64<<20)
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if at < start || at+uintptr(len(b)) > start+hugePageReserve {
		t.Errorf("a 64 MiB allocation at %#x is outside the advised range %#x+1GiB", at, start)
	}
	flags, err := vmFlags(at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping at %#x has VmFlags %q, want hg (MADV_HUGEPAGE)", at, flags)
	}
}

// vmFlags returns the VmFlags line of the mapping that holds addr.
func vmFlags(addr uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if in {
				return strings.TrimSpace(flags), nil
			}
			continue
		}
		// A mapping's first line is "lo-hi perms …"; the others are
		// "Name: value".
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("no mapping holds %#x", addr)
}
