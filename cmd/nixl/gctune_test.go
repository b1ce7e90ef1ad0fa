package main

import (
	"runtime/debug"
	"testing"
)

// The pacer's GOGC: live + headroom while the heap is small, at least
// minPercent, and with a floor (expectLive) no collection below it.
func TestGCPace(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	tu := &gcTuner{base: 48 << 20, minPercent: 100}
	tu.headroom.Store(48 << 20)
	percent := func(live uint64) int {
		tu.pace(live)
		return debug.SetGCPercent(100) // returns what pace set
	}
	if got := percent(16 << 20); got != 300 {
		t.Errorf("16 MB live: GOGC %d, want 300 (live + 48 MB)", got)
	}
	if got := percent(1 << 30); got != 100 {
		t.Errorf("1 GB live: GOGC %d, want 100 (the minimum)", got)
	}
	tu.floor.Store(400 << 20)
	if got := percent(100 << 20); got != 300 {
		t.Errorf("100 MB live, floor 400 MB: GOGC %d, want 300", got)
	}
	if got := percent(500 << 20); got != 100 {
		t.Errorf("above the floor: GOGC %d, want 100", got)
	}
}

// The headroom doubles while collections take more than 30% of the CPU,
// up to gcMaxHeadroom (twice the base), and halves back below 10%.
func TestGCAdaptHeadroom(t *testing.T) {
	const base = gcHeadroom
	h := uint64(base)
	for _, step := range []struct {
		gcShare float64
		want    uint64
	}{
		{0.5, 2 * base}, {0.5, 2 * base}, // capped at gcMaxHeadroom
		{0.2, 2 * base},            // in between: kept
		{0.05, base}, {0.05, base}, // never below the base
	} {
		h = adaptedHeadroom(h, base, step.gcShare)
		if h != step.want {
			t.Fatalf("GC share %.2f: headroom %d MB, want %d MB", step.gcShare, h>>20, step.want>>20)
		}
	}
	// A base set above the cap (NIXL_GC_HEADROOM_MB) is kept.
	if got := adaptedHeadroom(1<<30, 1<<30, 0.5); got != 1<<30 {
		t.Errorf("base 1 GB: headroom %d MB after a busy collection, want 1024", got>>20)
	}
}
