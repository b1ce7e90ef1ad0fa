package eval

import "github.com/nixl-project/nixl/lang"

// Thunk is a delayed computation: code to run in an environment. Once
// forced it keeps only its result and drops code and environment, so the
// environment can be collected (a cached thunk, as in go-jsonnet).
type Thunk struct {
	val   Value
	code  code
	env   *Env
	state thunkState
	// err is the error a failed evaluation left (thunkFailed): errors are
	// memoised, as in Nix since 2.34, so a failing thunk is evaluated once.
	err *Error
}

type thunkState uint8

const (
	thunkPending thunkState = iota
	thunkRunning            // a black hole: forcing it again is infinite recursion
	thunkDone
	thunkFailed
)

// NewThunk makes a value that computes f when forced. Builtins use it for
// lazy results (the elements of map's result, …).
func NewThunk(f func() (Value, error)) Value {
	return thunkValue(&Thunk{code: funcCode(f)})
}

// NewApp makes a lazy application of fn to arg (Nix's "app" thunk).
func NewApp(fn, arg Value) Value {
	return thunkValue(&Thunk{code: &appCode{fn: fn, args: []Value{arg}}})
}

// NewApp2 makes a lazy application of fn to two arguments.
func NewApp2(fn, a, b Value) Value {
	return thunkValue(&Thunk{code: &appCode{fn: fn, args: []Value{a, b}}})
}

func thunkValue(t *Thunk) Value { return Value{k: KindThunk, p: ptr(t)} }

type funcCode func() (Value, error)

func (f funcCode) eval(e *Eval, env *Env) (Value, error) { return f() }
func (f funcCode) pos() lang.Pos                         { return lang.NoPos }

type appCode struct {
	fn   Value
	args []Value
}

func (a *appCode) eval(e *Eval, env *Env) (Value, error) {
	return e.CallFunction(a.fn, a.args, lang.NoPos)
}
func (a *appCode) pos() lang.Pos { return lang.NoPos }

// Force evaluates *v to weak head normal form, in place.
func (e *Eval) Force(v *Value) error {
	if v.k != KindThunk {
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
	switch t.state {
	case thunkDone:
		return t.val, nil
	case thunkFailed:
		cp := *t.err
		cp.Trace = append([]lang.TraceFrame(nil), t.err.Trace...)
		return Value{}, &cp
	case thunkRunning:
		err := Errorf(ErrInfiniteRecursion, pos, "infinite recursion encountered")
		err.recursionThunk = t
		return Value{}, err
	}
	if e.depth >= e.maxCallDepth {
		return Value{}, Errorf(ErrStackOverflow, pos, "stack overflow; max-call-depth exceeded")
	}
	t.state = thunkRunning
	e.depth++
	r, err := t.code.eval(e, t.env)
	e.depth--
	if err != nil {
		ee, ok := err.(*Error)
		if ok && ee.recursionThunk == t {
			ee.recursionThunk = nil
			ee.Trace = append(ee.Trace, lang.TraceFrame{Msg: "entering the infinite recursion"})
		}
		t.fail(ee)
		return Value{}, err
	}
	// Nested thunks (a thunk whose code returns another thunk) are
	// forced through, so a forced thunk always holds a forced value.
	if r.k == KindThunk {
		r, err = e.forceThunk(r.thunk(), pos)
		if err != nil {
			ee, _ := err.(*Error)
			t.fail(ee)
			return Value{}, err
		}
	}
	t.val = r
	t.state = thunkDone
	t.code = nil
	t.env = nil
	return r, nil
}

// fail records a failed evaluation. Errors that depend on how deep the
// evaluation happened to be (stack overflow) or on the user (interrupts),
// and errors that are not evaluation errors, leave the thunk to be tried
// again.
func (t *Thunk) fail(err *Error) {
	if err == nil || err.Kind == ErrStackOverflow || err.Kind == ErrInterrupted || err.recursionThunk != nil {
		t.state = thunkPending
		return
	}
	// The error is kept, not copied: frames added while it propagates
	// this first time belong to it, as in Nix, whose failed thunks hold
	// the exception itself. Later forcings get copies.
	t.err = err
	t.state = thunkFailed
	t.code = nil
	t.env = nil
}
