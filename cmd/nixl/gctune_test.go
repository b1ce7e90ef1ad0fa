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
	tu := &gcTuner{headroom: 48 << 20, minPercent: 100}
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
