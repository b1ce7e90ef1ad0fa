package lsp

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/nixl-project/nixl/eval"
)

// Errors of bounded evaluations.
var (
	ErrTimeBudget   = errors.New("evaluation stopped: it took longer than the time budget")
	ErrMemoryBudget = errors.New("evaluation stopped: it used more memory than the memory budget")
	ErrAbandoned    = errors.New("evaluation did not stop when interrupted and was abandoned")
)

// heapBytes is the memory held by heap objects (live or not yet swept),
// cheap to read.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// liveHeapBytes is heapBytes after a collection: what is over the
// budget may be garbage (the collector lets the heap grow to twice
// what is live), which must not stop an evaluation.
func liveHeapBytes() uint64 {
	runtime.GC()
	return heapBytes()
}

// bounded runs f with a fresh evaluator on its own goroutine, within the
// server's time and memory budgets: when one runs out the evaluator is
// interrupted (its next call or thunk fails); a panic in f is recovered
// as an error. If f still does not return within a grace period (it is
// stuck in something that does not check for interruption), it is
// abandoned: its evaluator is used by nothing else, so the server goes on.
func (s *server) bounded(f func(e *eval.Eval) error) error {
	e, err := s.opts.NewEval()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("internal error during evaluation: %v", r)
			}
		}()
		done <- f(e)
	}()
	base := heapBytes()
	timer := time.NewTimer(s.opts.EvalBudget)
	defer timer.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var stopped error
	for {
		select {
		case err := <-done:
			if stopped != nil {
				return stopped
			}
			return err
		case <-timer.C:
			if stopped == nil {
				stopped = ErrTimeBudget
				e.Interrupt()
				timer.Reset(s.opts.Grace)
			} else {
				return ErrAbandoned
			}
		case <-tick.C:
			if stopped == nil && heapBytes() > base+s.opts.MemoryBudget && liveHeapBytes() > base+s.opts.MemoryBudget {
				stopped = ErrMemoryBudget
				e.Interrupt()
				timer.Reset(s.opts.Grace)
			}
		}
	}
}
