package eval

import (
	"slices"
	"strconv"

	"github.com/nixl-project/nixl/lang"
)

// code is a compiled expression: the syntax tree turned into nodes that
// know their variables' slots and their constants' values. eval returns
// the value in weak head normal form.
type code interface {
	eval(e *Eval, env *Env) (Value, error)
	pos() lang.Pos
}

// thunker is implemented by code that can produce its value lazily
// without allocating a thunk: constants, variables, functions.
type thunker interface {
	// thunk returns the lazy value; self points to the code itself in
	// the compiled tree, for a thunk to point to.
	thunk(e *Eval, env *Env, self *code) Value
}

// The thunkers, which mkThunkUncaptured and isThunker list by their types.
var _ = [...]thunker{(*constCode)(nil), (*varCode)(nil), (*globalCode)(nil), (*lambdaCode)(nil)}

// mkThunk returns the lazy value of *c in env. c points into the
// compiled tree: a thunk keeps the pointer.
func mkThunk(c *code, e *Eval, env *Env) Value {
	v, t := mkThunkUncaptured(c, e, env)
	if t != nil {
		env.capture()
	}
	return v
}

// mkThunkUncaptured is mkThunk without marking env captured when it
// makes a thunk, which it returns too: the caller decides later (settle).
func mkThunkUncaptured(c *code, e *Eval, env *Env) (Value, *Thunk) {
	// A switch on the concrete types: asserting to the thunker interface
	// looked its method table up on every call.
	switch x := (*c).(type) {
	case *constCode:
		return x.v, nil
	case *varCode:
		return x.thunk(e, env, c), nil
	case *globalCode:
		return x.thunk(e, env, c), nil
	case *lambdaCode:
		return x.thunk(e, env, c), nil
	}
	t := &Thunk{env: env, val: Value{p: ptr(c)}}
	return thunkValue(t), t
}

// isThunker reports whether c is one of the thunker codes, whose lazy
// value costs no thunk.
func isThunker(c code) bool {
	switch c.(type) {
	case *constCode, *varCode, *globalCode, *lambdaCode:
		return true
	}
	return false
}

// constCode is a literal.
type constCode struct {
	v Value
	p lang.Pos
}

func (c *constCode) eval(*Eval, *Env) (Value, error) { return c.v, nil }
func (c *constCode) pos() lang.Pos                   { return c.p }
func (c *constCode) thunk(*Eval, *Env, *code) Value  { return c.v }

// varCode reads a variable bound in an enclosing scope.
type varCode struct {
	up, idx int
	p       lang.Pos
}

func (c *varCode) scope(env *Env) *Env {
	for i := c.up; i > 0; i-- {
		env = env.up
	}
	return env
}

func (c *varCode) slot(env *Env) *Value { return &c.scope(env).vals()[c.idx] }

func (c *varCode) eval(e *Eval, env *Env) (Value, error) {
	v := c.slot(env)
	if v.k == KindThunk {
		if err := e.ForceAt(v, c.p); err != nil {
			return Value{}, err
		}
	}
	return *v, nil
}

func (c *varCode) pos() lang.Pos { return c.p }

func (c *varCode) thunk(e *Eval, env *Env, self *code) Value {
	s := c.scope(env)
	if v := &s.vals()[c.idx]; v.k != KindInvalid {
		if v.k == KindThunk && s.frame {
			s.capture() // the frame's argument thunk is shared
		}
		return *v
	}
	// The slot is not filled yet (a let binding referring to a later
	// one): defer the lookup.
	return thunkValue(codeThunk(self, env))
}

// strictCallCode is a call of a builtin that forces its one argument
// first thing (PrimOp.ForcesFirst), with an argument that would be passed
// as a thunk: the argument is evaluated here instead, with the bookkeeping
// forcing that thunk would do and the frame the call would add to its
// errors. (builtins.head p.deps made a thunk of p.deps at every call.)
type strictCallCode struct {
	call *callCode
	op   *PrimOp
}

func (c *strictCallCode) pos() lang.Pos { return c.call.p }

func (c *strictCallCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.arg(e, env)
	if err != nil {
		return Value{}, err
	}
	return e.callPrimOp1(c.op, v, c.call.p)
}

// arg evaluates the argument the builtin forces first as forcing its
// thunk inside the call would.
func (c *strictCallCode) arg(e *Eval, env *Env) (Value, error) {
	v, err := e.evalAsThunk(c.call.args[c.op.FirstArg], env, lang.NoPos)
	if err != nil && !c.op.NoTrace {
		err = addTrace(err, c.call.p, "while calling the '"+c.op.Name+"' builtin")
	}
	return v, err
}

// strictArgsCode is strictCallCode for a builtin of several arguments
// (builtins.bitAnd (m + o) 3, builtins.elemAt xs (i - 1)): the argument it
// forces first is evaluated here, the others are passed as callGeneral
// passes them.
type strictArgsCode struct {
	*strictCallCode
}

func (c *strictArgsCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.arg(e, env)
	if err != nil {
		return Value{}, err
	}
	args, base := e.pushArgs(len(c.call.args))
	var lazy lazyArgs
	for j := range args {
		if j == c.op.FirstArg {
			args[j] = v
		} else {
			lazy.set(&args[j], &c.call.args[j], e, env)
		}
	}
	r, err := e.callPrimOp(c.op, args, c.call.p)
	lazy.settle()
	e.popArgs(base)
	return r, err
}

// toStringCode is toString x (interpolations such as "pkg${toString i}"
// are full of them). When x is an integer known without evaluating
// anything (intArg), its decimal text; a variable or constant that is not
// one takes the call; any other argument is evaluated first, as in
// strictCallCode, and an integer result is formatted directly.
type toStringCode struct {
	*strictCallCode
}

// intArg is x when it is an integer known without evaluating anything.
func (c *toStringCode) intArg(env *Env) (int64, bool) {
	v, ok := peek(c.call.args[0], env)
	return v.IntValue(), ok && v.k == KindInt
}

func (c *toStringCode) eval(e *Eval, env *Env) (Value, error) {
	n, isInt, v, err := c.intOrValue(e, env)
	if err != nil || !isInt {
		return v, err
	}
	return String(strconv.FormatInt(n, 10)), nil
}

// intOrValue evaluates the call as eval does, but returns an integer
// argument as it is, for the caller to format (an interpolation writes
// its digits straight into the string it builds).
func (c *toStringCode) intOrValue(e *Eval, env *Env) (int64, bool, Value, error) {
	if n, ok := c.intArg(env); ok {
		return n, true, Value{}, nil
	}
	if isThunker(c.call.args[0]) {
		v, err := c.call.eval(e, env)
		return 0, false, v, err
	}
	v, err := c.arg(e, env)
	if err != nil {
		return 0, false, Value{}, err
	}
	if v.k == KindInt {
		return v.IntValue(), true, Value{}, nil
	}
	v, err = e.callPrimOp1(c.op, v, c.call.p)
	return 0, false, v, err
}

// primOpCode is builtins.NAME for a primop, found when compiling. It is
// not a constant: where a thunk of the select would be made, one still
// is, so the value prints unevaluated (<CODE>) until forced, as in Nix.
type primOpCode struct {
	v Value
	p lang.Pos
}

func (c *primOpCode) eval(*Eval, *Env) (Value, error) { return c.v, nil }
func (c *primOpCode) pos() lang.Pos                   { return c.p }

// globalCode reads a global (builtins and friends) directly.
type globalCode struct {
	idx int
	p   lang.Pos
}

func (c *globalCode) eval(e *Eval, env *Env) (Value, error) {
	v := &e.globals[c.idx]
	if v.k == KindThunk {
		if err := e.ForceAt(v, c.p); err != nil {
			return Value{}, err
		}
	}
	return *v, nil
}

func (c *globalCode) pos() lang.Pos                          { return c.p }
func (c *globalCode) thunk(e *Eval, env *Env, _ *code) Value { return e.globals[c.idx] }

// withVarCode looks a variable up in the attribute sets of the enclosing
// `with`s, innermost first.
type withVarCode struct {
	name Sym
	up   int // scopes up to the innermost with
	with *withCode
	p    lang.Pos
}

func (c *withVarCode) pos() lang.Pos { return c.p }

func (c *withVarCode) lookup(e *Eval, env *Env) (*Value, error) {
	for i := c.up; i > 0; i-- {
		env = env.up
	}
	w := c.with
	for {
		attrs := &env.vals()[0]
		if attrs.k != KindAttrs {
			if err := e.ForceAt(attrs, w.p); err != nil {
				return nil, err
			}
			if attrs.k != KindAttrs {
				err := TypeErrorf(w.attrs.pos(), "expected a set but found %s: %s", attrs.ShowType(), e.ShowValueShort(*attrs))
				return nil, addTrace(err, w.p, "while evaluating the first subexpression of a with expression")
			}
		}
		if a := attrs.AttrsValue().Get(c.name); a != nil {
			return &a.Value, nil
		}
		if w.parent == nil {
			return nil, Errorf(ErrUndefinedVar, c.p, "undefined variable '%s'", c.name)
		}
		for i := w.prevWith; i > 0; i-- {
			env = env.up
		}
		w = w.parent
	}
}

func (c *withVarCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.lookup(e, env)
	if err != nil {
		return Value{}, err
	}
	if v.k == KindThunk {
		if err := e.ForceAt(v, c.p); err != nil {
			return Value{}, err
		}
	}
	return *v, nil
}

// withCode is with e; body. Its scope has one slot: the set, lazily.
type withCode struct {
	attrs    code
	body     code
	prevWith int
	parent   *withCode
	p        lang.Pos
}

func (c *withCode) pos() lang.Pos { return c.p }

func (c *withCode) eval(e *Eval, env *Env) (Value, error) {
	inner := newEnv(env, 1)
	inner.vals()[0] = mkThunk(&c.attrs, e, env)
	return c.body.eval(e, inner)
}

// ifCode is if c then a else b.
type ifCode struct {
	cond, then, els code
	p               lang.Pos
}

func (c *ifCode) pos() lang.Pos { return c.p }

func (c *ifCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.cond.eval(e, env)
	if err != nil {
		return Value{}, err
	}
	if v.k != KindBool {
		return Value{}, c.condError(e, v)
	}
	if v.n != 0 {
		return c.then.eval(e, env)
	}
	return c.els.eval(e, env)
}

func (c *ifCode) condError(e *Eval, v Value) error {
	err := TypeErrorf(c.cond.pos(), "expected a Boolean but found %s: %s", v.ShowType(), e.ShowValueShort(v))
	return addTrace(err, c.cond.pos(), "while evaluating a branch condition")
}

// assertCode is assert c; body.
type assertCode struct {
	cond, body code
	text       string // the condition as Nix shows it
	p          lang.Pos
}

func (c *assertCode) pos() lang.Pos { return c.p }

func (c *assertCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.cond.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.p, "while evaluating the condition of the assertion '"+c.text+"'")
	}
	if v.k != KindBool {
		err := TypeErrorf(c.cond.pos(), "expected a Boolean but found %s: %s", v.ShowType(), e.ShowValueShort(v))
		return Value{}, addTrace(err, c.p, "in the condition of the assert statement")
	}
	if v.n == 0 {
		// Nix explains a failed equality assertion by comparing again
		// and reporting the first difference.
		if eq, ok := c.cond.(*eqCode); ok && !eq.neq {
			a, err1 := eq.x.eval(e, env)
			b, err2 := eq.y.eval(e, env)
			if err1 == nil && err2 == nil {
				if _, err := e.assertEqual(a, b, eq.p); err != nil {
					return Value{}, addTrace(err, c.p, "while evaluating the condition of the assertion '"+c.text+"'")
				}
			}
		}
		return Value{}, Errorf(ErrAssertion, c.p, "assertion '%s' failed", c.text)
	}
	return c.body.eval(e, env)
}

// notCode is !x.
type notCode struct {
	x code
	p lang.Pos
}

func (c *notCode) pos() lang.Pos { return c.p }

func (c *notCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := e.evalBool(c.x, env, "in the argument of '!'")
	if err != nil {
		return Value{}, err
	}
	return Bool(!v), nil
}

// evalBool evaluates x and insists on a Boolean; what is the operator's
// frame ("in the left operand of '&&'").
func (e *Eval) evalBool(x code, env *Env, what string) (bool, error) {
	v, err := x.eval(e, env)
	if err != nil {
		return false, addTrace(err, x.pos(), what)
	}
	if v.k != KindBool {
		err := TypeErrorf(x.pos(), "expected a Boolean but found %s: %s", v.ShowType(), e.ShowValueShort(v))
		return false, addTrace(err, x.pos(), what)
	}
	return v.n != 0, nil
}

// andCode, orCode and implCode are the lazy Boolean operators.
type andCode struct {
	x, y code
	p    lang.Pos
}

func (c *andCode) pos() lang.Pos { return c.p }

func (c *andCode) eval(e *Eval, env *Env) (Value, error) {
	a, err := e.evalBool(c.x, env, "in the left operand of '&&'")
	if err != nil || !a {
		return False, err
	}
	b, err := e.evalBool(c.y, env, "in the right operand of '&&'")
	return Bool(b), err
}

type orCode struct {
	x, y code
	p    lang.Pos
}

func (c *orCode) pos() lang.Pos { return c.p }

func (c *orCode) eval(e *Eval, env *Env) (Value, error) {
	a, err := e.evalBool(c.x, env, "in the left operand of '||'")
	if err != nil || a {
		return Bool(a), err
	}
	b, err := e.evalBool(c.y, env, "in the right operand of '||'")
	return Bool(b), err
}

type implCode struct {
	x, y code
	p    lang.Pos
}

func (c *implCode) pos() lang.Pos { return c.p }

func (c *implCode) eval(e *Eval, env *Env) (Value, error) {
	a, err := e.evalBool(c.x, env, "in the left operand of '->'")
	if err != nil || !a {
		return True, err
	}
	b, err := e.evalBool(c.y, env, "in the right operand of '->'")
	return Bool(b), err
}

// eqCode is == (or != with neq).
type eqCode struct {
	x, y code
	neq  bool
	p    lang.Pos
}

func (c *eqCode) pos() lang.Pos { return c.p }

func (c *eqCode) eval(e *Eval, env *Env) (Value, error) {
	op := "=="
	if c.neq {
		op = "!="
	}
	a, err := c.x.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.x.pos(), "in the left operand of '"+op+"'")
	}
	b, err := c.y.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.y.pos(), "in the right operand of '"+op+"'")
	}
	if a.k == b.k && (a.k == KindInt || a.k == KindBool || a.k == KindNull || a.k == KindList && (a.n == 0 || b.n == 0)) {
		// (Lists are equal to an empty one when they are empty too.)
		return Bool((a.n == b.n) != c.neq), nil
	}
	eq, err := e.Equal(a, b, c.p)
	if err != nil {
		return Value{}, err
	}
	return Bool(eq != c.neq), nil
}

// lambdaCode is a function; evaluating it makes a closure.
type lambdaCode struct {
	node    *lang.Lambda
	nslots  int
	formals []formalCode
	body    code
	// strictArg: the body forces the argument before anything else
	// (forcesArgFirst), so an argument computed at once (n - 1 of
	// evaluated integers) is as good as its thunk: nothing can see it
	// unevaluated.
	strictArg bool
}

type formalCode struct {
	name Sym
	def  code
}

func (c *lambdaCode) pos() lang.Pos { return c.node.Start }

func (c *lambdaCode) eval(e *Eval, env *Env) (Value, error) {
	env.capture()
	return lambdaValue(&Closure{Lambda: c, Env: env}), nil
}

func (c *lambdaCode) thunk(e *Eval, env *Env, _ *code) Value {
	env.capture()
	v := lambdaValue(&Closure{Lambda: c, Env: env})
	v.f = flagUnforced
	return v
}

// callCode is f a b ….
type callCode struct {
	fn   code
	args []code
	p    lang.Pos
}

func (c *callCode) pos() lang.Pos { return c.p }

func (c *callCode) eval(e *Eval, env *Env) (Value, error) {
	fn, err := c.fn.eval(e, env)
	if err != nil {
		return Value{}, err
	}
	if len(c.args) == 1 && fn.k == KindLambda {
		// The common case, kept lean: it is on every recursion's path.
		cl := fn.Closure()
		arg := c.args[0]
		if cl.Lambda.strictArg {
			switch arg.(type) {
			case *arithCode, *concatCode:
				if v, ok := peek(arg, env); ok {
					return e.callLambda(cl, v, c.p)
				}
			}
		}
		if !isThunker(arg) && !cl.Lambda.node.HasFormals {
			return e.callLambdaLazy(cl, &c.args[0], env, c.p)
		}
		v, t := mkThunkUncaptured(&c.args[0], e, env)
		r, err := e.callLambda(cl, v, c.p)
		settle(t)
		return r, err
	}
	return c.callGeneral(e, env, fn)
}

// settle marks the scope of t, an argument's thunk made by
// mkThunkUncaptured, as captured if t is still pending after the call it
// was passed to: something may keep it. A forced thunk has dropped its
// scope. nil is nothing to settle.
func settle(t *Thunk) {
	if t != nil && t.env != nil {
		t.env.capture()
	}
}

func (c *callCode) callGeneral(e *Eval, env *Env, fn Value) (Value, error) {
	// Curried calls of functions (f a b) go argument by argument without
	// building an argument list.
	i := 0
	for ; i < len(c.args) && fn.k == KindLambda; i++ {
		var err error
		cl := fn.Closure()
		if inner := curried(cl); inner != nil && i+1 < len(c.args) {
			a, ta := mkThunkUncaptured(&c.args[i], e, env)
			b, tb := mkThunkUncaptured(&c.args[i+1], e, env)
			fn, err = e.callCurried(cl, inner, a, b, c.p)
			settle(ta)
			settle(tb)
			i++
		} else {
			a, ta := mkThunkUncaptured(&c.args[i], e, env)
			fn, err = e.callLambda(cl, a, c.p)
			settle(ta)
		}
		if err != nil {
			return Value{}, err
		}
		if i+1 < len(c.args) {
			if err := e.ForceAt(&fn, c.p); err != nil {
				return Value{}, err
			}
		}
	}
	if i == len(c.args) {
		if err := e.ForceAt(&fn, c.p); err != nil {
			return Value{}, err
		}
		return fn, nil
	}
	args, base := e.pushArgs(len(c.args) - i)
	var lazy lazyArgs
	for j := range args {
		lazy.set(&args[j], &c.args[i+j], e, env)
	}
	r, err := e.CallFunction(fn, args, c.p)
	lazy.settle()
	e.popArgs(base)
	return r, err
}

// pushArgs makes room for n arguments of a call on the argument stack
// (a slice of a local would escape).
func (e *Eval) pushArgs(n int) (args []Value, base int) {
	base = len(e.argStack)
	e.argStack = slices.Grow(e.argStack, n)[:base+n]
	return e.argStack[base : base+n : base+n], base
}

// popArgs takes the arguments pushArgs made room for off the stack.
// Nested calls leave the stack as long as they found it, though perhaps
// moved; the slots are cleared so as not to keep values.
func (e *Eval) popArgs(base int) {
	clear(e.argStack[base:])
	e.argStack = e.argStack[:base]
}

// lazyArgs makes the lazy arguments of a builtin call. Their thunks
// capture the scope only if still pending when the call returns (kept
// for later): a builtin that forced them (most do) leaves the scope free
// to be recycled.
type lazyArgs struct {
	fresh  [4]*Thunk
	nfresh int
}

// set sets *arg to the lazy value of *c in env.
func (l *lazyArgs) set(arg *Value, c *code, e *Eval, env *Env) {
	if l.nfresh == len(l.fresh) {
		*arg = mkThunk(c, e, env)
		return
	}
	var t *Thunk
	if *arg, t = mkThunkUncaptured(c, e, env); t != nil {
		l.fresh[l.nfresh] = t
		l.nfresh++
	}
}

// settle marks the scope of the thunks still pending captured.
func (l *lazyArgs) settle() {
	for _, t := range l.fresh[:l.nfresh] {
		settle(t)
	}
}

// listCode is [ … ].
type listCode struct {
	elems []code
	p     lang.Pos
}

func (c *listCode) pos() lang.Pos { return c.p }

func (c *listCode) eval(e *Eval, env *Env) (Value, error) {
	if len(c.elems) == 0 {
		return List(nil), nil
	}
	vals := make([]Value, len(c.elems))
	for i := range c.elems {
		vals[i] = mkThunk(&c.elems[i], e, env)
	}
	return List(vals), nil
}

// letCode is let … in body.
type letCode struct {
	binds       []code // one per slot
	inheritFrom []code
	body        code
	p           lang.Pos
}

func (c *letCode) pos() lang.Pos { return c.p }

func (c *letCode) eval(e *Eval, env *Env) (Value, error) {
	inner := newEnv(env, len(c.binds))
	fromEnv := inner
	if len(c.inheritFrom) > 0 {
		fromEnv = newEnv(inner, len(c.inheritFrom))
		for i := range c.inheritFrom {
			fromEnv.vals()[i] = mkThunk(&c.inheritFrom[i], e, inner)
		}
	}
	for i, b := range c.binds {
		if b == nil {
			continue
		}
		switch b := b.(type) {
		case *inheritedCode:
			inner.vals()[i] = mkThunk(&b.value, e, env)
		case *inheritFromSelect:
			inner.vals()[i] = mkThunk(&c.binds[i], e, fromEnv)
		default:
			inner.vals()[i] = mkThunk(&c.binds[i], e, inner)
		}
	}
	return c.body.eval(e, inner)
}

// inheritedCode marks `inherit x;`: the value is looked up in the scope
// around the set.
type inheritedCode struct {
	value code
}

func (c *inheritedCode) pos() lang.Pos                         { return c.value.pos() }
func (c *inheritedCode) eval(e *Eval, env *Env) (Value, error) { return c.value.eval(e, env) }

// inheritFromSelect is the value of `inherit (src) x;`: src.x, where src
// is evaluated once per set and kept in an extra scope.
type inheritFromSelect struct {
	idx  int
	name Sym
	p    lang.Pos
}

func (c *inheritFromSelect) pos() lang.Pos { return c.p }

func (c *inheritFromSelect) eval(e *Eval, env *Env) (Value, error) {
	src := &env.vals()[c.idx]
	if err := e.ForceAt(src, c.p); err != nil {
		return Value{}, err
	}
	if src.k != KindAttrs {
		err := TypeErrorf(c.p, "expected a set but found %s: %s", src.ShowType(), e.ShowValueShort(*src))
		return Value{}, addTrace(err, c.p, "while selecting an attribute")
	}
	a := src.AttrsValue().Get(c.name)
	if a == nil {
		return Value{}, e.missingAttr(*src, c.name, c.p)
	}
	v := &a.Value
	if err := e.ForceAt(v, c.p); err != nil {
		return Value{}, err
	}
	return *v, nil
}

func (e *Eval) missingAttr(set Value, name Sym, pos lang.Pos) error {
	err := Errorf(ErrEval, lang.NoPos, "attribute '%s' missing", name)
	var names []string
	for _, a := range set.AttrsValue() {
		names = append(names, a.Name.String())
	}
	err.Hint = Suggest(names, name.String())
	return err
}

// curPosCode is __curPos.
type curPosCode struct {
	p lang.Pos
}

func (c *curPosCode) pos() lang.Pos { return c.p }

func (c *curPosCode) eval(e *Eval, env *Env) (Value, error) {
	return e.PosValue(c.p), nil
}
