package eval

import (
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

func ptr[T any](x *T) unsafe.Pointer { return unsafe.Pointer(x) }

// Closure is a function value: a lambda and the environment it was made in.
type Closure struct {
	Lambda *lambdaCode
	Env    *Env
}

// Name is the name the function was bound to, or "".
func (c *Closure) Name() string { return c.Lambda.node.Name }

// Pos is where the function is defined.
func (c *Closure) Pos() lang.Pos { return c.Lambda.node.Start }

// Formals describes the parameters of a function taking a set: each name
// and whether it has a default. ok is false for a plain x: … function.
func (c *Closure) Formals() (names []string, hasDefault []bool, ok bool) {
	n := c.Lambda.node
	if !n.HasFormals {
		return nil, nil, false
	}
	for _, f := range n.Formals {
		names = append(names, f.Name)
		hasDefault = append(hasDefault, f.Default != nil)
	}
	return names, hasDefault, true
}

// Node is the syntax of the function.
func (c *Closure) Node() *lang.Lambda { return c.Lambda.node }

// PrimOp is a built-in function. It receives its arguments unforced.
type PrimOp struct {
	Name  string
	Arity int
	// Params names the parameters, for documentation.
	Params []string
	Doc    string
	Fn     func(e *Eval, args []Value, pos lang.Pos) (Value, error)
	// NoTrace leaves out the "while calling the '…' builtin" frame
	// (addErrorContext adds its own).
	NoTrace bool
	// ForcesFirst marks a builtin whose first act is forcing its argument
	// FirstArg (0 for the first) at no position, adding nothing to the
	// errors of that forcing: a call can then evaluate that argument
	// itself instead of passing a thunk (strictCallCode), with the same
	// result and errors.
	ForcesFirst bool
	FirstArg    int
}

// PrimOpApp is a built-in function applied to fewer arguments than it takes.
type PrimOpApp struct {
	Op   *PrimOp
	Args []Value
}

// PrimOpValue makes a value of a primop.
func PrimOpValue(op *PrimOp) Value { return Value{k: KindPrimOp, p: ptr(op)} }

func lambdaValue(c *Closure) Value { return Value{k: KindLambda, p: ptr(c)} }

// CallFunction applies fn to args, as `fn a b …` at pos (NoPos when the
// call comes from a builtin).
func (e *Eval) CallFunction(fn Value, args []Value, pos lang.Pos) (Value, error) {
	for len(args) > 0 {
		if err := e.ForceAt(&fn, pos); err != nil {
			return Value{}, err
		}
		switch fn.k {
		case KindLambda:
			cl := fn.Closure()
			if inner := curried(cl); inner != nil && len(args) >= 2 {
				r, err := e.callCurried(cl, inner, args[0], args[1], pos)
				if err != nil {
					return Value{}, err
				}
				fn = r
				args = args[2:]
				break
			}
			r, err := e.callLambda(cl, args[0], pos)
			if err != nil {
				return Value{}, err
			}
			fn = r
			args = args[1:]
		case KindPrimOp:
			op := fn.PrimOpValue()
			if len(args) < op.Arity {
				return Value{k: KindPrimOpApp, p: ptr(&PrimOpApp{Op: op, Args: append([]Value(nil), args...)})}, nil
			}
			r, err := e.callPrimOp(op, args[:op.Arity], pos)
			if err != nil {
				return Value{}, err
			}
			fn = r
			args = args[op.Arity:]
		case KindPrimOpApp:
			app := fn.PrimOpAppValue()
			need := app.Op.Arity - len(app.Args)
			if len(args) < need {
				all := make([]Value, 0, len(app.Args)+len(args))
				all = append(append(all, app.Args...), args...)
				return Value{k: KindPrimOpApp, p: ptr(&PrimOpApp{Op: app.Op, Args: all})}, nil
			}
			all := make([]Value, 0, app.Op.Arity)
			all = append(append(all, app.Args...), args[:need]...)
			r, err := e.callPrimOp(app.Op, all, pos)
			if err != nil {
				return Value{}, err
			}
			fn = r
			args = args[need:]
		case KindAttrs:
			functor := fn.AttrsValue().Get(symFunctor)
			if functor == nil {
				return Value{}, e.notAFunction(fn, pos)
			}
			// f.__functor f arg
			r, err := e.CallFunction(functor.Value, []Value{fn, args[0]}, pos)
			if err != nil {
				return Value{}, err
			}
			fn = r
			args = args[1:]
		default:
			return Value{}, e.notAFunction(fn, pos)
		}
	}
	if err := e.ForceAt(&fn, pos); err != nil {
		return Value{}, err
	}
	return fn, nil
}

// Call1 is CallFunction with one argument, without allocating for the
// common case of a function value.
func (e *Eval) Call1(fn, arg Value, pos lang.Pos) (Value, error) {
	if err := e.ForceAt(&fn, pos); err != nil {
		return Value{}, err
	}
	if fn.k == KindLambda {
		r, err := e.callLambda(fn.Closure(), arg, pos)
		if err != nil || r.k != KindThunk {
			return r, err
		}
		return e.ForceValue(r)
	}
	return e.CallFunction(fn, []Value{arg}, pos)
}

// Call2 is CallFunction with two arguments (a curried function).
func (e *Eval) Call2(fn, a, b Value, pos lang.Pos) (Value, error) {
	if err := e.ForceAt(&fn, pos); err != nil {
		return Value{}, err
	}
	if fn.k == KindLambda {
		cl := fn.Closure()
		if inner := curried(cl); inner != nil {
			r, err := e.callCurried(cl, inner, a, b, pos)
			if err != nil || r.k != KindThunk {
				return r, err
			}
			return e.ForceValue(r)
		}
		r, err := e.callLambda(cl, a, pos)
		if err != nil {
			return Value{}, err
		}
		return e.Call1(r, b, pos)
	}
	return e.CallFunction(fn, []Value{a, b}, pos)
}

// curried returns the inner function of a: b: body (without formals), or
// nil.
func curried(c *Closure) *lambdaCode {
	if c.Lambda.node.HasFormals {
		return nil
	}
	if inner, ok := c.Lambda.body.(*lambdaCode); ok && !inner.node.HasFormals {
		return inner
	}
	return nil
}

// callCurried calls a: b: body with two arguments, as builtins.foldl'
// and sort do, without making the closure of b: body in between: its
// scope is that of the first call. Both scopes are recycled when nothing
// kept them. The result may be a thunk.
func (e *Eval) callCurried(c *Closure, inner *lambdaCode, a, b Value, pos lang.Pos) (Value, error) {
	if e.interrupted.Load() {
		return Value{}, e.errInterrupted(pos)
	}
	outer := e.callEnv(c.Env, 1)
	outer.vals()[0] = a
	env := e.callEnv(outer, 1)
	env.vals()[0] = b
	r, err := e.runBody(inner, env, pos)
	e.releaseCallEnv(env, err)
	e.releaseCallEnv(outer, err)
	return r, err
}

func (e *Eval) notAFunction(fn Value, pos lang.Pos) error {
	return TypeErrorf(pos, "attempt to call something which is not a function but %s: %s", fn.ShowType(), e.ShowValueShort(fn))
}

func (e *Eval) callPrimOp(op *PrimOp, args []Value, pos lang.Pos) (Value, error) {
	r, err := op.Fn(e, args, pos)
	if err != nil {
		if op.NoTrace {
			return Value{}, err
		}
		return Value{}, addTrace(err, pos, "while calling the '"+op.Name+"' builtin")
	}
	return r, nil
}

// pushArg puts v on the argument stack (pushArgs) and returns it as a
// one-element argument list, with the stack's height to give to popArgs
// after the call.
func (e *Eval) pushArg(v Value) (args []Value, base int) {
	args, base = e.pushArgs(1)
	args[0] = v
	return args, base
}

// callPrimOp1 calls a one-argument builtin on v.
func (e *Eval) callPrimOp1(op *PrimOp, v Value, pos lang.Pos) (Value, error) {
	args, base := e.pushArg(v)
	r, err := e.callPrimOp(op, args, pos)
	e.popArgs(base)
	return r, err
}

// callLambda calls a function. It is on the path of every recursion in
// Nix code, so it keeps its stack frame small: error handling is out of
// line.
func (e *Eval) callLambda(c *Closure, arg Value, pos lang.Pos) (Value, error) {
	lam := c.Lambda
	env := e.callEnv(c.Env, lam.nslots)
	if !lam.node.HasFormals {
		env.vals()[0] = arg
	} else if err := e.bindFormals(c, env, arg, pos); err != nil {
		return Value{}, err
	}
	if e.interrupted.Load() {
		return Value{}, e.errInterrupted(pos)
	}
	r, err := e.runBody(lam, env, pos)
	e.releaseCallEnv(env, err)
	return r, err
}

// runBody evaluates a function's body in its call environment.
func (e *Eval) runBody(lam *lambdaCode, env *Env, pos lang.Pos) (Value, error) {
	e.depth++
	if e.depth > e.maxCallDepth || e.depth&(stackCheckEvery-1) == 0 {
		// Checked here, like Nix, so that the failing call gets its
		// frames too.
		if err := e.checkDepth(e.depth, pos); err != nil {
			e.depth--
			return Value{}, e.callError(lam, err, pos)
		}
	}
	r, err := lam.body.eval(e, env)
	e.depth--
	if err != nil {
		return Value{}, e.callError(lam, err, pos)
	}
	return r, nil
}

// callFrame is the environment of a one-argument call together with the
// thunk of its argument: one allocation for the commonest call.
type callFrame struct {
	env  Env
	slot [1]Value
	arg  Thunk
}

// callLambdaLazy calls a plain (x: …) function with the argument
// expression argCode, to be evaluated lazily in callerEnv.
//
// The frame is recycled when the call returns if nothing captured it:
// its scope (Env.captured) or its argument thunk, which varCode.thunk
// marks as a capture of the frame when it copies the thunk out
// unforced. A captured frame's argument may still be forced later, in
// callerEnv, which is then captured too.
func (e *Eval) callLambdaLazy(c *Closure, argCode *code, callerEnv *Env, pos lang.Pos) (Value, error) {
	if e.interrupted.Load() {
		return Value{}, e.errInterrupted(pos)
	}
	var f *callFrame
	if k := len(e.freeFrames); k > 0 {
		f = e.freeFrames[k-1]
		e.freeFrames = e.freeFrames[:k-1]
	} else {
		f = &callFrame{}
		f.env.first, f.env.n, f.env.frame = &f.slot[0], 1, true
	}
	f.arg.val, f.arg.env = Value{p: unsafe.Pointer(argCode)}, callerEnv
	f.slot[0] = thunkValue(&f.arg)
	f.env.up = c.Env
	r, err := e.runBody(c.Lambda, &f.env, pos)
	switch {
	case f.env.captured:
		f.arg.env.capture()
	case err == nil && len(e.freeFrames) < maxFreeEnvs:
		f.env.up, f.slot[0], f.arg = nil, Value{}, Thunk{}
		e.freeFrames = append(e.freeFrames, f)
	}
	return r, err
}

// callError adds the frames of a failed call.
func (e *Eval) callError(lam *lambdaCode, err error, pos lang.Pos) error {
	if e.ShowTrace {
		err = addTrace(err, lam.node.Start, "while calling "+lambdaDescription(lam.node))
		if pos.IsValid() {
			err = addTrace(err, pos, "from call site")
		}
	}
	return err
}

func lambdaDescription(n *lang.Lambda) string {
	if n.Name != "" {
		return "'" + n.Name + "'"
	}
	return "anonymous lambda"
}

func lambdaName(n *lang.Lambda) string {
	if n.Name != "" {
		return n.Name
	}
	return "anonymous lambda"
}

// bindFormals fills the environment of a call of a function taking a set.
func (e *Eval) bindFormals(c *Closure, env *Env, arg Value, pos lang.Pos) error {
	lam := c.Lambda
	if err := e.ForceAt(&arg, pos); err != nil {
		return err
	}
	if arg.k != KindAttrs {
		err := TypeErrorf(pos, "expected a set but found %s: %s", arg.ShowType(), e.ShowValueShort(arg))
		return addTrace(err, pos, "while evaluating the value passed for the lambda argument")
	}
	slot := 0
	if lam.node.Arg != "" {
		env.vals()[0] = arg
		slot = 1
	}
	attrs := arg.AttrsValue()
	used := 0
	for i := range lam.formals {
		f := &lam.formals[i]
		if a := attrs.Get(f.name); a != nil {
			env.vals()[slot] = a.Value
			used++
		} else if f.def != nil {
			env.vals()[slot] = mkThunk(&f.def, e, env)
		} else {
			err := TypeErrorf(lam.node.Start, "function '%s' called without required argument '%s'", lambdaName(lam.node), f.name)
			return addTrace(err, pos, "from call site")
		}
		slot++
	}
	if !lam.node.Ellipsis && used < len(attrs) {
		for _, a := range attrs.Lexicographic() {
			if !lam.hasFormal(a.Name) {
				err := TypeErrorf(lam.node.Start, "function '%s' called with unexpected argument '%s'", lambdaName(lam.node), a.Name)
				var names []string
				for _, f := range lam.node.Formals {
					names = append(names, f.Name)
				}
				err.Hint = Suggest(names, a.Name.String())
				return addTrace(err, pos, "from call site")
			}
		}
	}
	return nil
}

func (l *lambdaCode) hasFormal(name Sym) bool {
	for _, f := range l.formals {
		if f.name == name {
			return true
		}
	}
	return false
}

// Suggest returns Nix's "Did you mean …?" hint for a misspelt name, or ""
// (lang.Suggest).
func Suggest(candidates []string, wrong string) string { return lang.Suggest(candidates, wrong) }
