package eval

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
	"weak"

	"github.com/nixl-project/nixl/lang"
)

// Limits on what one value may take, checked where a value is built from
// others (so that repeated doubling fails fast, with a message, rather
// than exhausting memory), and the memory limit of Options.MaxMemory.
const (
	// MaxStringLength bounds the strings concatenation, interpolation,
	// concatStringsSep, replaceStrings, toString and toJSON build.
	MaxStringLength = 1 << 30
	// MaxListLength bounds the lists genList, ++, concatLists and
	// concatMap build: 2^26 elements take 1.5 GiB.
	MaxListLength = 1 << 26
)

// maxStringLength and maxListLength are the limits in force (tests lower
// them).
var (
	maxStringLength       = MaxStringLength
	maxListLength   int64 = MaxListLength
)

// sizeCheckFrom is the size from which builders of strings and lists
// check it: below, no check can fail (unless tests lower the limits).
var sizeCheckFrom = 1 << 20

// CheckStringSize fails if a string of n bytes is too large to build:
// longer than MaxStringLength, or larger than the memory limit.
func (e *Eval) CheckStringSize(n int, pos lang.Pos) error {
	if n > maxStringLength {
		return Errorf(ErrEval, pos, "cannot create a string of %d bytes (the maximum is %s)", n, formatBytes(uint64(maxStringLength)))
	}
	if e.tooLargeForLimit(int64(n)) { // formatting only then: this is on hot paths
		return e.CheckAllocation(int64(n), fmt.Sprintf("a string of %d bytes", n), pos)
	}
	return nil
}

// CheckListSize fails if a list of n elements is too large to build:
// longer than MaxListLength, or larger than the memory limit.
func (e *Eval) CheckListSize(n int64, pos lang.Pos) error {
	if n > maxListLength {
		return Errorf(ErrEval, pos, "cannot create list of size %d (the maximum is %d)", n, maxListLength)
	}
	if e.tooLargeForLimit(n * ValueSize) {
		return e.CheckAllocation(n*ValueSize, fmt.Sprintf("a list of %d elements", n), pos)
	}
	return nil
}

// ValueSize is the size of a Value, the cost of a list element.
const ValueSize = int64(unsafe.Sizeof(Value{}))

// CheckAllocation fails, when the evaluator has a memory limit, if an
// allocation of n bytes (a list about to be made, a string about to be
// built) could not fit in it: cheaper than finding out by allocating.
func (e *Eval) CheckAllocation(n int64, what string, pos lang.Pos) error {
	if e.tooLargeForLimit(n) {
		return Errorf(ErrMemoryLimit, pos, "%s would take %s, more than the memory limit of %s (--max-memory)", what, formatBytes(uint64(n)), formatBytes(e.MaxMemory))
	}
	return nil
}

func (e *Eval) tooLargeForLimit(n int64) bool {
	return e.MaxMemory > 0 && n > 0 && uint64(n) > e.MaxMemory
}

// The memory limit: evaluators with a MaxMemory are watched by one
// goroutine that samples the heap every memoryCheckInterval (a cheap
// read of runtime metrics, nothing on the evaluator's paths). When the
// heap is beyond an evaluator's limit even after a collection, the
// evaluator is interrupted with memoryExceeded set, and its next call or
// thunk evaluation fails with ErrMemoryLimit. The watcher holds the
// evaluators weakly and stops when none is left.

const memoryCheckInterval = 10 * time.Millisecond

var memWatch struct {
	mu      sync.Mutex
	evals   []weak.Pointer[Eval]
	running bool
}

// watchMemory puts e under the watch of the memory limit.
func (e *Eval) watchMemory() {
	memWatch.mu.Lock()
	defer memWatch.mu.Unlock()
	memWatch.evals = append(memWatch.evals, weak.Make(e))
	if !memWatch.running {
		memWatch.running = true
		go watchMemoryLoop()
	}
}

// heapInUse is the memory held by heap objects, live or not yet swept.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func watchMemoryLoop() {
	tick := time.NewTicker(memoryCheckInterval)
	defer tick.Stop()
	for range tick.C {
		if !checkMemory() {
			return
		}
	}
}

// checkMemory interrupts the evaluators beyond their limit; it returns
// false, having stopped the watch, when no evaluator is left.
func checkMemory() bool {
	memWatch.mu.Lock()
	var evals []*Eval
	live := memWatch.evals[:0]
	for _, w := range memWatch.evals {
		if e := w.Value(); e != nil {
			live = append(live, w)
			evals = append(evals, e)
		}
	}
	clear(memWatch.evals[len(live):])
	memWatch.evals = live
	if len(live) == 0 {
		memWatch.running = false
		memWatch.mu.Unlock()
		return false
	}
	memWatch.mu.Unlock()
	heap := heapInUse()
	collected := false
	for _, e := range evals {
		if heap <= e.MaxMemory || e.memoryExceeded.Load() {
			continue
		}
		if !collected {
			// What is over the limit may be garbage not yet collected
			// (the collector lets the heap grow to two or three times
			// what is live); count only what survives a collection.
			runtime.GC()
			heap, collected = heapInUse(), true
			if heap <= e.MaxMemory {
				continue
			}
		}
		e.memoryExceeded.Store(true)
		e.interrupted.Store(true)
	}
	return true
}

// errMemoryLimit is the error of an evaluation stopped by the memory
// limit.
func (e *Eval) errMemoryLimit(pos lang.Pos) *Error {
	return Errorf(ErrMemoryLimit, pos, "evaluation stopped: it used more than the memory limit of %s (--max-memory)", formatBytes(e.MaxMemory))
}

// formatBytes writes a size in the largest binary unit it reaches, with
// one decimal when it is not a whole number of them.
func formatBytes(n uint64) string {
	for _, u := range []struct {
		suffix string
		size   uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size {
			s := strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + " " + u.suffix
		}
	}
	return strconv.FormatUint(n, 10) + " bytes"
}

// CheckInterrupt returns the error of an interrupted evaluation (by the
// user, a time budget or the memory limit), or nil: for builtins that
// loop for long without calling back into evaluation.
func (e *Eval) CheckInterrupt(pos lang.Pos) error {
	if e.interrupted.Load() {
		return e.errInterrupted(pos)
	}
	return nil
}

// SizeCheckFrom is the size from which a builder of a string or a list
// must call CheckStringSize or CheckListSize: below, they cannot fail.
func SizeCheckFrom() int { return sizeCheckFrom }
