package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
)

// The collector is paced by the live heap rather than by a fixed GOGC.
// An evaluation allocates far more than it keeps, and Go's default
// collects at every doubling from 4 MB, so small and middling evaluations
// spend much of their time marking. After each collection the next one is
// set for the live heap plus gcHeadroom, or live × (1 + gcMinPercent/100)
// when that is larger: cheap collections while the heap is small, and a
// peak memory of about twice the live heap once it is large.
//
// The headroom widens, up to gcMaxHeadroom, while collections take much
// of the CPU (adapt): a program that makes garbage fast over a small live
// heap — a fold that copies a big set at every step — would otherwise
// collect every few milliseconds, marking the same live data each time.
//
// 96 MB trades memory for time as Nix does (it starts Boehm's heap at a
// quarter of the RAM, up to 384 MiB, to collect rarely): with 48 MB,
// modules.nix (a live heap of some 60 MB) spent a fifth more CPU time, for
// 15 MB less peak memory; json.nix, whose peak is bound by its live heap,
// grew past 0.7 of Nix's peak only from 128 MB on (testdata/bench,
// 2026-11-26).
const (
	gcHeadroom    = 96 << 20
	gcMaxHeadroom = 2 * gcHeadroom
	gcMinPercent  = 100
)

// tuneGC starts the pacing unless GOGC is set (then Go's own rule
// applies). NIXL_GC_HEADROOM_MB and NIXL_GC_MIN_PERCENT override the
// constants, for measuring.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	t := &gcTuner{base: gcHeadroom, minPercent: gcMinPercent}
	if v, err := strconv.Atoi(os.Getenv("NIXL_GC_HEADROOM_MB")); err == nil && v > 0 {
		t.base = uint64(v) << 20
	}
	t.headroom.Store(t.base)
	if v, err := strconv.Atoi(os.Getenv("NIXL_GC_MIN_PERCENT")); err == nil && v > 0 {
		t.minPercent = v
	}
	t.pace(0)
	t.arm()
	pacer = t
}

// pacer is the running tuner (nil when GOGC rules).
var pacer *gcTuner

type gcTuner struct {
	base       uint64        // the headroom to start with and come back to
	headroom   atomic.Uint64 // the headroom now (adapt)
	minPercent int
	// cpu is the collector's and the program's CPU time at the last
	// collection (finalizer goroutine only).
	cpu struct{ gc, user float64 }
	// floor, if set, is a heap goal below which no collection is
	// wanted (expectLive).
	floor atomic.Uint64
}

// expectLive tells the pacer that about n more bytes are about to be
// allocated and will all stay live — a parser building the AST of a big
// file — so collecting before they are is wasted marking: the heap goal
// is raised by n until done is called. (Parsing 20 MB of source spent a
// third of its time in the collector, which found nothing to free.)
func expectLive(n uint64) (done func()) {
	t := pacer
	if t == nil || n < t.headroom.Load() {
		return func() {}
	}
	live := t.readLive()
	t.floor.Store(live + n)
	t.pace(live)
	return func() {
		t.floor.Store(0)
		t.pace(t.readLive())
	}
}

// readLive is the live heap the last collection found (a sample of
// one's own: the finalizer goroutine reads too).
func (t *gcTuner) readLive() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		return sample[0].Value.Uint64()
	}
	return 0
}

// gcSentinel is garbage the moment it is made; its finalizer runs after
// the collection that finds it, and arms the next one.
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		s.t.adapt()
		s.t.pace(s.t.readLive())
		s.t.arm()
	})
}

// adapt doubles the headroom when the collector took more than 30% of
// the CPU time since the last collection, and halves it back towards the
// base below 10%.
func (t *gcTuner) adapt() {
	sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/user:cpu-seconds"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64 || sample[1].Value.Kind() != metrics.KindFloat64 {
		return
	}
	gc, user := sample[0].Value.Float64(), sample[1].Value.Float64()
	dgc, duser := gc-t.cpu.gc, user-t.cpu.user
	t.cpu.gc, t.cpu.user = gc, user
	if dgc+duser <= 0 {
		return
	}
	t.headroom.Store(adaptedHeadroom(t.headroom.Load(), t.base, dgc/(dgc+duser)))
}

// adaptedHeadroom is the headroom after a collection that took the
// fraction gcShare of the CPU time since the one before.
func adaptedHeadroom(headroom, base uint64, gcShare float64) uint64 {
	switch {
	case gcShare > 0.3:
		return min(2*headroom, max(gcMaxHeadroom, base))
	case gcShare < 0.1:
		return max(headroom/2, base)
	}
	return headroom
}

// pace sets GOGC for a live heap of live bytes.
func (t *gcTuner) pace(live uint64) {
	live = max(live, 4<<20) // Go's minimum heap goal
	percent := max(t.minPercent, int(t.headroom.Load()*100/live))
	if floor := t.floor.Load(); floor > live {
		percent = max(percent, int((floor-live)*100/live))
	}
	debug.SetGCPercent(percent)
}
