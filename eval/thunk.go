package eval

import (
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

// Thunk is a delayed computation: code to run in an environment. Once
// forced it keeps only its result and drops code and environment, so the
// environment can be collected (a cached thunk, as in go-jsonnet).
//
// The state lives in val's kind, which keeps a thunk at 32 bytes: the
// zero kind while pending, with val.p pointing to the code (an element
// of the compiled tree, so no allocation of its own); kindBlackhole while
// being evaluated (the rest of val unchanged); the result's kind when
// done; kindFailed (val.p holding the *Error) when its evaluation failed
// — errors are memoised, as in Nix since 2.34.
//
// Applications (appThunk1, appThunk2) share only val with Thunk.
type Thunk struct {
	val Value
	env *Env
}

// Internal kinds marking thunk states; never seen outside a Thunk.
const (
	kindBlackhole Kind = 0xfe
	kindFailed    Kind = 0xff
)

// codeThunk makes a thunk of the code *c in env. c must stay where it
// is: it points into the compiled tree.
func codeThunk(c *code, env *Env) *Thunk {
	env.capture()
	return &Thunk{env: env, val: Value{p: unsafe.Pointer(c)}}
}

// pendingCode is the code of a pending or blackholed thunk that is not
// an application.
func (t *Thunk) pendingCode() code { return *(*code)(t.val.p) }

// funcThunk is the thunk of NewThunk, with its code beside it.
type funcThunk struct {
	Thunk
	fn code
}

// NewThunk makes a value that computes f when forced. Builtins use it for
// lazy results.
func NewThunk(f func() (Value, error)) Value {
	t := &funcThunk{fn: funcCode(f)}
	t.val.p = unsafe.Pointer(&t.fn)
	return thunkValue(&t.Thunk)
}

// An application thunk is a lazy application in one allocation: the
// function lives in val while the thunk is pending — its kind, flags and
// number of arguments packed into val.f, so that val.k still says
// "pending" (KindInvalid) — and the arguments follow. It has no env
// field: a *Thunk pointing to one must never have env read or written
// (appArgs tells them apart). 48 bytes for one argument, where separate
// code, environment, function and argument fields took 128.
type appThunk1 struct {
	val Value
	arg Value
}

type appThunk2 struct {
	val  Value
	args [2]Value
}

// NewApp makes a lazy application of fn to arg (Nix's "app" thunk).
func NewApp(fn, arg Value) Value {
	t := &appThunk1{val: packFunction(fn, 1), arg: arg}
	return thunkValue((*Thunk)(unsafe.Pointer(t)))
}

// NewApps sets out[i] to a lazy application of fn to args[i], for map.
// The applications are allocated appBlock at a time: a list's elements
// are made together and mostly die together, and one allocation for many
// is cheaper (genList's thunks were a fifth of a genList-heavy profile).
// The block bounds what a kept thunk can keep alive with it.
func NewApps(out []Value, fn Value, args []Value) {
	packed := packFunction(fn, 1)
	var block []appThunk1
	for i := range out {
		t := nextInBlock(&block, len(out)-i)
		t.val, t.arg = packed, args[i]
		out[i] = thunkValue((*Thunk)(unsafe.Pointer(t)))
	}
}

const appBlock = 128

// nextInBlock takes the next element of *block, allocating a new block
// of appBlock elements (at most left) when it is used up.
func nextInBlock[T any](block *[]T, left int) *T {
	if len(*block) == 0 {
		*block = make([]T, min(appBlock, left))
	}
	t := &(*block)[0]
	*block = (*block)[1:]
	return t
}

// An indexed application is genList's element i: its function is shared
// by all the elements (indexedSource) and its argument is the integer i,
// kept in val.n, so a pending element is 24 bytes instead of 48. Its
// val.f holds appIndexed in the argument-count bits.
type indexedThunk struct {
	val Value
}

type indexedSource struct {
	fn Value
}

const appIndexed = 3

// NewIndexedApps sets out[i] to a lazy application of fn to the integer
// i, allocated as NewApps does.
func NewIndexedApps(out []Value, fn Value) {
	src := &indexedSource{fn: fn}
	var block []indexedThunk
	for i := range out {
		t := nextInBlock(&block, len(out)-i)
		t.val = Value{f: appIndexed << 6, n: uint64(i), p: unsafe.Pointer(src)}
		out[i] = thunkValue((*Thunk)(unsafe.Pointer(t)))
	}
}

// callIndexed calls an indexed application's function on its index. A
// function of its own, to keep evalThunk's frame small.
func (e *Eval) callIndexed(state Value, pos lang.Pos) (Value, error) {
	args, base := e.pushArg(Int(int64(state.n)))
	r, err := e.CallFunction((*indexedSource)(state.p).fn, args, pos)
	e.popArgs(base)
	return r, err
}

// NewApp2 makes a lazy application of fn to two arguments.
func NewApp2(fn, a, b Value) Value {
	t := &appThunk2{val: packFunction(fn, 2)}
	t.args[0], t.args[1] = a, b
	return thunkValue((*Thunk)(unsafe.Pointer(t)))
}

// packFunction packs an application's function: its kind in the low four
// bits of f, its two flag bits above, the number of arguments in the top
// two bits (0 for a thunk that is not an application). A lazy update
// (a functor set) is made flat first, as its flag has no room.
func packFunction(fn Value, nargs uint8) Value {
	if fn.f&flagLazyUpdate != 0 {
		fn = AttrsValue(fn.AttrsValue())
	}
	return Value{f: uint8(fn.k) | fn.f<<4 | nargs<<6, n: fn.n, p: fn.p}
}

// appFunction is the function of a pending or blackholed application
// thunk (blackholing changes val.k only).
func (t *Thunk) appFunction() Value {
	v := t.val
	if v.f>>6 == appIndexed {
		return (*indexedSource)(v.p).fn
	}
	return Value{k: Kind(v.f & 0xf), f: v.f >> 4 & 3, n: v.n, p: v.p}
}

// appArgs returns the arguments of an application thunk with arguments
// (not an indexed one), or nil if t is not one; state is t's val while
// pending or blackholed.
func (t *Thunk) appArgs(state Value) []Value {
	switch state.f >> 6 {
	case 1:
		a := (*appThunk1)(unsafe.Pointer(t))
		return unsafe.Slice(&a.arg, 1)
	case 2:
		a := (*appThunk2)(unsafe.Pointer(t))
		return a.args[:]
	}
	return nil
}

// isDone reports whether the thunk holds its value.
func (t *Thunk) isDone() bool { return t.val.k != KindInvalid && t.val.k < kindBlackhole }

func thunkValue(t *Thunk) Value { return Value{k: KindThunk, p: ptr(t)} }

type funcCode func() (Value, error)

func (f funcCode) eval(e *Eval, env *Env) (Value, error) { return f() }
func (f funcCode) pos() lang.Pos                         { return lang.NoPos }

// Force evaluates *v to weak head normal form, in place.
func (e *Eval) Force(v *Value) error {
	if v.k != KindThunk {
		if v.k == KindLambda {
			v.f = 0 // forced now (flagUnforced)
		}
		return nil
	}
	r, err := e.forceThunk(v.thunk(), lang.NoPos)
	if err != nil {
		return err
	}
	*v = r
	return nil
}

// ForceAt is Force with the position of the code that needs the value,
// which an infinite recursion error reports.
func (e *Eval) ForceAt(v *Value, pos lang.Pos) error {
	if v.k != KindThunk {
		if v.k == KindLambda {
			v.f = 0 // forced now, as far as determinePos is concerned
		}
		return nil
	}
	r, err := e.forceThunk(v.thunk(), pos)
	if err != nil {
		return err
	}
	*v = r
	return nil
}

// ForceValue returns the forced form of v.
func (e *Eval) ForceValue(v Value) (Value, error) {
	if v.k != KindThunk {
		return v, nil
	}
	return e.forceThunk(v.thunk(), lang.NoPos)
}

func (e *Eval) forceThunk(t *Thunk, pos lang.Pos) (Value, error) {
	switch t.val.k {
	case KindInvalid:
	case kindBlackhole:
		err := Errorf(ErrInfiniteRecursion, pos, "infinite recursion encountered")
		err.recursionThunk = t
		return Value{}, err
	case kindFailed:
		orig := (*Error)(t.val.p)
		cp := *orig
		cp.Trace = append([]lang.TraceFrame(nil), orig.Trace...)
		return Value{}, &cp
	default:
		return t.val, nil
	}
	return e.evalThunk(t, pos)
}

// checksDue reports whether forcing a thunk must make its checks
// (thunkChecks); small enough to inline on the forcing path.
func (e *Eval) checksDue() bool {
	return e.depth >= e.maxCallDepth || (e.depth+1)&(stackCheckEvery-1) == 0 || e.interrupted.Load()
}

// thunkChecks makes the checks forcing a thunk at pos starts with: the
// depth limit (now and then the stack) and interruption.
func (e *Eval) thunkChecks(pos lang.Pos) error {
	if e.depth >= e.maxCallDepth || (e.depth+1)&(stackCheckEvery-1) == 0 {
		if err := e.checkDepth(e.depth+1, pos); err != nil {
			return err
		}
	}
	if e.interrupted.Load() {
		return e.errInterrupted(pos)
	}
	return nil
}

func (e *Eval) evalThunk(t *Thunk, pos lang.Pos) (Value, error) {
	return e.evalThunkAs(t, pos, false)
}

// evalThunkAs is evalThunk; asName says the value is wanted as an
// attribute name, and a pending interpolation then makes its string as a
// symbol's (concatCode.evalName).
func (e *Eval) evalThunkAs(t *Thunk, pos lang.Pos, asName bool) (Value, error) {
	if e.checksDue() {
		if err := e.thunkChecks(pos); err != nil {
			return Value{}, err
		}
	}
	pending := t.val        // holds an application's function
	t.val.k = kindBlackhole // which appFunction still reads
	e.depth++
	var r Value
	var err error
	switch pending.f >> 6 {
	case 0:
		c := *(*code)(pending.p)
		if cc, ok := c.(*concatCode); ok && asName {
			r, err = cc.evalName(e, t.env)
			break
		}
		r, err = c.eval(e, t.env)
	case appIndexed:
		r, err = e.callIndexed(pending, pos)
	default:
		r, err = e.CallFunction(t.appFunction(), t.appArgs(pending), pos)
	}
	e.depth--
	if err == nil && r.k == KindThunk {
		// A thunk whose code returns another thunk is forced through, so
		// a forced thunk always holds a forced value.
		r, err = e.forceThunk(r.thunk(), pos)
	}
	if err != nil {
		ee, ok := err.(*Error)
		if ok && ee.recursionThunk == t {
			ee.recursionThunk = nil
			ee.Trace = append(ee.Trace, lang.TraceFrame{Msg: "entering the infinite recursion"})
		}
		t.fail(ee, pending)
		return Value{}, err
	}
	t.done(r, pending)
	return r, nil
}

// evalAsThunk evaluates c as forcing a thunk of it at pos would, without
// the thunk: for an argument that the function receiving it forces
// first. The depth it counts and the checks it makes are evalThunk's.
func (e *Eval) evalAsThunk(c code, env *Env, pos lang.Pos) (Value, error) {
	if e.checksDue() {
		if err := e.thunkChecks(pos); err != nil {
			return Value{}, err
		}
	}
	e.depth++
	r, err := c.eval(e, env)
	e.depth--
	if err == nil && r.k == KindThunk {
		r, err = e.forceThunk(r.thunk(), pos)
	}
	return r, err
}

// done stores the result and drops what computed it.
func (t *Thunk) done(r Value, pending Value) {
	t.drop(pending)
	t.val = r
}

// drop clears what computed t: its scope, or an application's
// arguments. An indexed application has neither (nor an env field).
func (t *Thunk) drop(pending Value) {
	switch pending.f >> 6 {
	case 0:
		t.env = nil
	case appIndexed:
	default:
		clear(t.appArgs(pending))
	}
}

// fail records a failed evaluation. Errors that depend on how deep the
// evaluation happened to be (stack overflow) or on the user (interrupts),
// and errors that are not evaluation errors, leave the thunk to be tried
// again.
func (t *Thunk) fail(err *Error, pending Value) {
	if err == nil || err.Kind == ErrStackOverflow || err.Kind == ErrInterrupted || err.Kind == ErrMemoryLimit || err.recursionThunk != nil {
		t.val = pending
		return
	}
	// The error is kept, not copied: frames added while it propagates
	// this first time belong to it, as in Nix, whose failed thunks hold
	// the exception itself. Later forcings get copies.
	t.drop(pending)
	t.val = Value{k: kindFailed, p: unsafe.Pointer(err)}
}

// determinePos is where a value comes from, for forcing it without a
// better position (Nix's Value::determinePos): a thunk's expression, an
// application's function, a function's definition.
func determinePos(v *Value) lang.Pos {
	switch v.k {
	case KindThunk:
		t := v.thunk()
		if k := t.val.k; k != KindInvalid && k != kindBlackhole {
			return lang.NoPos
		}
		if t.val.f>>6 != 0 {
			fn := t.appFunction()
			return determinePos(&fn)
		}
		return t.pendingCode().pos()
	case KindLambda:
		if v.f&flagUnforced != 0 {
			return lang.NoPos
		}
		return v.Closure().Pos()
	}
	return lang.NoPos
}
