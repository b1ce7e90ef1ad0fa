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

// appThunk is a lazy application in one allocation: the function and
// its arguments live in the thunk's own environment slots.
type appThunk struct {
	Thunk
	env   Env
	slots [3]Value
}

// NewApp makes a lazy application of fn to arg (Nix's "app" thunk).
func NewApp(fn, arg Value) Value {
	t := &appThunk{}
	t.slots[0], t.slots[1] = fn, arg
	t.env.vals = t.slots[:2]
	t.code, t.Thunk.env = appCode{}, &t.env
	return thunkValue(&t.Thunk)
}

// NewApp2 makes a lazy application of fn to two arguments.
func NewApp2(fn, a, b Value) Value {
	t := &appThunk{}
	t.slots[0], t.slots[1], t.slots[2] = fn, a, b
	t.env.vals = t.slots[:3]
	t.code, t.Thunk.env = appCode{}, &t.env
	return thunkValue(&t.Thunk)
}

func thunkValue(t *Thunk) Value { return Value{k: KindThunk, p: ptr(t)} }

type funcCode func() (Value, error)

func (f funcCode) eval(e *Eval, env *Env) (Value, error) { return f() }
func (f funcCode) pos() lang.Pos                         { return lang.NoPos }

// appCode applies env.vals[0] to the rest of env.vals (see appThunk).
type appCode struct{}

func (appCode) eval(e *Eval, env *Env) (Value, error) {
	return e.CallFunction(env.vals[0], env.vals[1:], lang.NoPos)
}
func (appCode) pos() lang.Pos { return lang.NoPos }

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
	if e.interrupted.Load() {
		return Value{}, errInterrupted(pos)
	}
	t.state = thunkRunning
	e.depth++
	var r Value
	var err error
	if _, isApp := t.code.(appCode); isApp {
		// An application is called from where it is forced, as in Nix.
		r, err = e.CallFunction(t.env.vals[0], t.env.vals[1:], pos)
	} else {
		r, err = t.code.eval(e, t.env)
	}
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

// determinePos is where a value comes from, for forcing it without a
// better position (Nix's Value::determinePos): a thunk's expression, an
// application's function, a function's definition.
func determinePos(v *Value) lang.Pos {
	switch v.k {
	case KindThunk:
		t := v.thunk()
		if t.code == nil {
			return lang.NoPos
		}
		if _, isApp := t.code.(appCode); isApp {
			return determinePos(&t.env.vals[0])
		}
		return t.code.pos()
	case KindLambda:
		if v.f&flagUnforced != 0 {
			return lang.NoPos
		}
		return v.Closure().Pos()
	}
	return lang.NoPos
}
