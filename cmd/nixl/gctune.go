package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
)

// The collector is paced by the live heap rather than by a fixed GOGC.
// An evaluation allocates far more than it keeps, and Go's default
// collects at every doubling from 4 MB, so small and middling evaluations
// spend much of their time marking. After each collection the next one is
// set for the live heap plus gcHeadroom, or live × (1 + gcMinPercent/100)
// when that is larger: cheap collections while the heap is small, and a
// peak memory of about twice the live heap once it is large.
const (
	gcHeadroom   = 48 << 20
	gcMinPercent = 100
)

// tuneGC starts the pacing unless GOGC is set (then Go's own rule
// applies). NIXL_GC_HEADROOM_MB and NIXL_GC_MIN_PERCENT override the
// constants, for measuring.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	t := &gcTuner{headroom: gcHeadroom, minPercent: gcMinPercent}
	if v, err := strconv.Atoi(os.Getenv("NIXL_GC_HEADROOM_MB")); err == nil && v > 0 {
		t.headroom = uint64(v) << 20
	}
	if v, err := strconv.Atoi(os.Getenv("NIXL_GC_MIN_PERCENT")); err == nil && v > 0 {
		t.minPercent = v
	}
	t.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t.pace(0)
	t.arm()
}

type gcTuner struct {
	headroom   uint64
	minPercent int
	sample     []metrics.Sample
}

// gcSentinel is garbage the moment it is made; its finalizer runs after
// the collection that finds it, and arms the next one.
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		metrics.Read(s.t.sample)
		live := uint64(0)
		if s.t.sample[0].Value.Kind() == metrics.KindUint64 {
			live = s.t.sample[0].Value.Uint64()
		}
		s.t.pace(live)
		s.t.arm()
	})
}

// pace sets GOGC for a live heap of live bytes.
func (t *gcTuner) pace(live uint64) {
	live = max(live, 4<<20) // Go's minimum heap goal
	percent := max(t.minPercent, int(t.headroom*100/live))
	debug.SetGCPercent(percent)
}
