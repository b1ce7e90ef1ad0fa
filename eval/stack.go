package eval

import (
	"strconv"
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

// Evaluation recurses on the Go stack: calls, thunks, and the walks over
// nested data (deepSeq, ==, <, printing, toString of lists). All of them
// count their levels in e.depth, which max-call-depth bounds. That alone
// does not keep the goroutine within its stack: how many bytes a level
// takes depends on the path (a plain recursive call takes about 330, a
// chain of thunks forced through selections and builtins twice that and
// more), and the Go runtime's limit is fatal. So every stackCheckEvery
// levels the stack in use is measured, and evaluation fails with Nix's
// "stack overflow (possible infinite recursion)" before the runtime's
// limit is reached.
//
// The measure: when the depth reaches a multiple k of stackCheckEvery,
// the address of a local variable is recorded; the stack used since the
// multiple k-1 (whose record was made by a caller still on the stack,
// since depth rises one level at a time) is the difference of the two
// addresses. The runtime moves a growing stack to a new place, and an
// interval during which it moved gives no sensible difference; it is
// counted at the average of the others. The sum is the estimate.

// stackCheckEvery is how many levels of depth pass between two
// measurements of the stack (a power of two).
const stackCheckEvery = 256

// maxStackStep bounds a believable stack growth over stackCheckEvery
// levels; a larger difference means the stack moved.
const maxStackStep = stackCheckEvery * 64 << 10

// stackGuard holds the measurements of the current descent, indexed by
// depth / stackCheckEvery.
type stackGuard struct {
	sp   []uintptr
	used []uintptr
}

// goStackCeiling is the Go runtime's hard limit on a goroutine's stack
// (twice its default limit), whatever debug.SetMaxStack says.
var goStackCeiling = 2 * defaultMaxStack

// defaultMaxStack is the Go runtime's default goroutine stack limit.
var defaultMaxStack = func() int {
	if strconv.IntSize == 32 {
		return 250_000_000
	}
	return 1_000_000_000
}()

// stackBudget is how much stack evaluation may use: stacks grow by
// doubling, so the largest a goroutine can have is the largest power of
// two within the limit; a sixteenth of it (64 MiB of 1 GiB) is left for
// the levels between two measurements, the error of the estimate, and
// recursions not counted in the depth (a few MiB at most).
func stackBudget() uintptr {
	stackMu.Lock()
	limit := min(stackLimit, goStackCeiling)
	stackMu.Unlock()
	size := uintptr(1)
	for size*2 <= uintptr(limit) {
		size *= 2
	}
	return size / 16 * 15
}

// checkDepth is the slow path of the depth checks, taken when depth
// (the new level) is beyond max-call-depth or a multiple of
// stackCheckEvery: it returns the error that ends the evaluation, or nil.
//
//go:noinline
func (e *Eval) checkDepth(depth int, pos lang.Pos) *Error {
	if depth > e.maxCallDepth {
		return Errorf(ErrStackOverflow, pos, "stack overflow; max-call-depth exceeded")
	}
	if depth%stackCheckEvery != 0 {
		return nil
	}
	var marker byte
	sp := uintptr(unsafe.Pointer(&marker))
	g := &e.stack
	k := depth / stackCheckEvery
	for len(g.sp) <= k {
		g.sp = append(g.sp, 0)
		g.used = append(g.used, 0)
	}
	var used uintptr
	if k >= 2 {
		if prev := g.sp[k-1]; prev > sp && prev-sp < maxStackStep {
			used = g.used[k-1] + (prev - sp)
		} else {
			used = g.used[k-1] + g.used[k-1]/uintptr(k-1)
		}
	}
	g.sp[k], g.used[k] = sp, used
	if used > stackBudget() {
		return Errorf(ErrStackOverflow, pos, "stack overflow (possible infinite recursion)")
	}
	return nil
}

// enterNested counts one level of a walk over nested data in the depth;
// leaveNested ends it.
func (e *Eval) enterNested(pos lang.Pos) error {
	e.depth++
	if e.depth > e.maxCallDepth || e.depth&(stackCheckEvery-1) == 0 {
		if err := e.checkDepth(e.depth, pos); err != nil {
			e.depth--
			return err
		}
	}
	return nil
}

func (e *Eval) leaveNested() { e.depth-- }

// EnterNested counts one level of a recursive walk over nested values
// (for builtins that recurse on the Go stack) in the evaluation depth:
// it fails with a stack overflow error when the walk goes too deep. Every
// successful EnterNested must be followed by LeaveNested.
func (e *Eval) EnterNested(pos lang.Pos) error { return e.enterNested(pos) }

// LeaveNested ends a level begun by EnterNested.
func (e *Eval) LeaveNested() { e.leaveNested() }
