package main

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
)

// parseMemorySize reads a --max-memory value: a number of bytes with an
// optional binary unit, K, M, G or T (KiB, MiB…; "B" and "iB" may
// follow, in any case). 0 means no limit.
func parseMemorySize(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	shift := 0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift > 0 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
	if err != nil || n > (1<<63)>>shift {
		return 0, fmt.Errorf("invalid memory size '%s' (expected e.g. 4G, 512M or a number of bytes)", s)
	}
	return n << shift, nil
}

// setMemoryLimit makes the Go runtime collect garbage harder as the heap
// nears the --max-memory limit, so that what the evaluator's watch
// measures (eval.Options.MaxMemory) is mostly live memory.
func setMemoryLimit(limit uint64) {
	if limit > 0 && limit <= 1<<62 {
		debug.SetMemoryLimit(int64(limit))
	}
}
