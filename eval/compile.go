package eval

import (
	"github.com/nixl-project/nixl/lang"
)

// compiler turns a resolved syntax tree into code. Variable bindings come
// from lang.Resolve; the compiler lays out run-time scopes to match.
type compiler struct {
	e     *Eval
	withs map[*lang.With]*withCode
}

func (e *Eval) compile(x lang.Expr) code {
	cp := &compiler{e: e, withs: map[*lang.With]*withCode{}}
	return cp.expr(x)
}

func (cp *compiler) binding(b lang.Binding, name string, pos lang.Pos) code {
	switch b.Kind {
	case lang.Static:
		if b.Global {
			return &globalCode{idx: b.Index, p: pos}
		}
		return &varCode{up: b.Up, idx: b.Index, p: pos}
	case lang.Dynamic:
		return &withVarCode{name: Intern(name), up: b.Up, with: cp.withs[b.With], p: pos}
	}
	return &errorCode{err: Errorf(ErrUndefinedVar, pos, "undefined variable '%s'", name), p: pos}
}

// isBuiltin reports whether b is the global of that name (not shadowed).
func (cp *compiler) isBuiltin(b lang.Binding, name string) bool {
	return b.Kind == lang.Static && b.Global && cp.e.globalNames[b.Index] == name
}

// builtinsPrimOp compiles builtins.NAME, when builtins is the global
// (with cannot shadow it) and NAME a primop, to the primop itself
// (primOpCode): the builtins set never changes, and a loop calling
// builtins.bitAnd would otherwise look it up at every step.
func (cp *compiler) builtinsPrimOp(x *lang.Select) code {
	v, ok := x.X.(*lang.Var)
	if !ok || len(x.Path) != 1 || x.Path[0].Expr != nil || x.Default != nil || !cp.isBuiltin(v.Binding, "builtins") {
		return nil
	}
	a := cp.e.builtins.AttrsValue().Get(Intern(x.Path[0].Name))
	if a == nil || a.Value.k != KindPrimOp {
		return nil
	}
	return &primOpCode{v: a.Value, p: x.Start}
}

// calledPrimOp is the builtin fn, compiled, stands for when it is a
// global or builtins.NAME, or nil.
func calledPrimOp(e *Eval, fn code) *PrimOp {
	var v Value
	switch c := fn.(type) {
	case *globalCode:
		v = e.globals[c.idx]
	case *primOpCode:
		v = c.v
	default:
		return nil
	}
	if v.k != KindPrimOp {
		return nil
	}
	return v.PrimOpValue()
}

func (cp *compiler) exprs(xs []lang.Expr) []code {
	out := make([]code, len(xs))
	for i, x := range xs {
		out[i] = cp.expr(x)
	}
	return out
}

func (cp *compiler) attrPath(path []lang.AttrName) ([]attrKey, []string) {
	keys := make([]attrKey, len(path))
	text := make([]string, len(path))
	for i, a := range path {
		if a.Expr != nil {
			keys[i] = attrKey{dyn: cp.expr(a.Expr), p: a.Pos}
			text[i] = `"${` + lang.Show(a.Expr) + `}"`
		} else {
			keys[i] = attrKey{sym: Intern(a.Name), p: a.Pos}
			text[i] = lang.ShowAttrPath(path[i : i+1])
		}
	}
	return keys, text
}

func (cp *compiler) stringParts(parts []lang.StringPart) ([]code, []lang.Pos) {
	codes := make([]code, len(parts))
	poss := make([]lang.Pos, len(parts))
	for i, p := range parts {
		if p.Expr != nil {
			codes[i] = cp.expr(p.Expr)
		} else {
			codes[i] = &constCode{v: String(p.Text), p: p.Pos}
		}
		poss[i] = p.Pos
	}
	return codes, poss
}

func (cp *compiler) expr(x lang.Expr) code {
	switch x := x.(type) {
	case *lang.Int:
		return &constCode{v: Int(x.Value), p: x.Start}
	case *lang.Float:
		return &constCode{v: Float(x.Value), p: x.Start}
	case *lang.String:
		if x.IsLiteral() {
			return &constCode{v: String(x.Literal()), p: x.Start}
		}
		parts, poss := cp.stringParts(x.Parts)
		return &concatCode{parts: parts, partPos: poss, forceString: true, p: x.Start}
	case *lang.Path:
		first := &constCode{v: Path(x.Value), p: x.Start}
		if len(x.Parts) == 0 {
			return first
		}
		parts, poss := cp.stringParts(x.Parts)
		return &concatCode{
			parts:   append([]code{first}, parts...),
			partPos: append([]lang.Pos{x.Start}, poss...),
			p:       x.Start,
		}
	case *lang.SearchPath:
		return &callCode{
			fn:   cp.binding(x.FindFile, "__findFile", x.Start),
			args: []code{cp.binding(x.NixPath, "__nixPath", x.Start), &constCode{v: String(x.Path), p: x.Start}},
			p:    x.Start,
		}
	case *lang.Var:
		return cp.binding(x.Binding, x.Name, x.Start)
	case *lang.CurPos:
		return &curPosCode{p: x.Start}
	case *lang.Select:
		if c := cp.builtinsPrimOp(x); c != nil {
			return c
		}
		keys, text := cp.attrPath(x.Path)
		c := &selectCode{x: cp.expr(x.X), path: keys, text: text, p: x.Start}
		if !c.p.IsValid() {
			c.p, _ = x.X.Span() // let { … }: Nix reports the set
		}
		if x.Default != nil {
			c.def = cp.expr(x.Default)
		}
		return c
	case *lang.HasAttr:
		keys, _ := cp.attrPath(x.Path)
		return &hasAttrCode{x: cp.expr(x.X), path: keys, p: x.OpPos}
	case *lang.Attrs:
		return cp.attrs(x)
	case *lang.List:
		return &listCode{elems: cp.exprs(x.Elems), p: x.Start}
	case *lang.Lambda:
		return cp.lambda(x)
	case *lang.Call:
		c := &callCode{fn: cp.expr(x.Fn), args: cp.exprs(x.Args), p: x.Start}
		if op := calledPrimOp(cp.e, c.fn); op != nil && op.ForcesFirst && len(c.args) == op.Arity {
			strict := &strictCallCode{call: c, op: op}
			switch {
			case op.Arity == 1 && op.Name == "toString":
				return &toStringCode{strictCallCode: strict}
			case isThunker(c.args[op.FirstArg]):
			case op.Arity == 1:
				return strict
			default:
				return &strictArgsCode{strictCallCode: strict}
			}
		}
		return c
	case *lang.Let:
		return cp.let(x)
	case *lang.With:
		w := &withCode{prevWith: x.PrevWith, p: x.Start}
		if x.ParentWith != nil {
			w.parent = cp.withs[x.ParentWith]
		}
		w.attrs = cp.expr(x.Attrs)
		cp.withs[x] = w
		w.body = cp.expr(x.Body)
		return w
	case *lang.If:
		return &ifCode{cond: cp.expr(x.Cond), then: cp.expr(x.Then), els: cp.expr(x.Else), p: x.Start}
	case *lang.Assert:
		return &assertCode{cond: cp.expr(x.Cond), body: cp.expr(x.Body), text: lang.Show(x.Cond), p: x.Start}
	case *lang.UnaryOp:
		if x.Op == lang.NOT {
			return &notCode{x: cp.expr(x.X), p: x.Start}
		}
		if cp.isBuiltin(x.Fn, "__sub") {
			return &negCode{x: cp.expr(x.X), p: x.Start}
		}
		return &callCode{fn: cp.binding(x.Fn, "__sub", x.Start), args: []code{&constCode{v: Int(0)}, cp.expr(x.X)}, p: x.Start}
	case *lang.BinaryOp:
		return cp.binary(x)
	case *lang.Bad:
		return &errorCode{err: Errorf(ErrParse, x.Start, "syntax error"), p: x.Start}
	}
	panic("eval: cannot compile node")
}

func (cp *compiler) binary(x *lang.BinaryOp) code {
	a, b := cp.expr(x.X), cp.expr(x.Y)
	switch x.Op {
	case lang.PLUS:
		return &concatCode{parts: []code{a, b}, partPos: []lang.Pos{x.Start, x.YStart}, p: x.OpPos}
	case lang.EQ:
		return &eqCode{x: a, y: b, p: x.OpPos}
	case lang.NEQ:
		return &eqCode{x: a, y: b, neq: true, p: x.OpPos}
	case lang.AND:
		return &andCode{x: a, y: b, p: x.OpPos}
	case lang.OR:
		return &orCode{x: a, y: b, p: x.OpPos}
	case lang.IMPL:
		return &implCode{x: a, y: b, p: x.OpPos}
	case lang.UPDATE:
		return &updateCode{x: a, y: b, p: x.OpPos}
	case lang.CONCAT:
		return &concatListsCode{x: a, y: b, p: x.OpPos}
	case lang.PIPE_INTO:
		return &callCode{fn: b, args: []code{a}, p: x.OpPos}
	case lang.PIPE_FROM:
		return &callCode{fn: a, args: []code{b}, p: x.OpPos}
	}
	fn := lang.DesugaredFn(x.Op)
	if cp.isBuiltin(x.Fn, fn) {
		return &arithCode{op: x.Op, x: a, y: b, p: x.OpPos}
	}
	f := cp.binding(x.Fn, fn, x.OpPos)
	switch x.Op {
	case lang.GT:
		return &callCode{fn: f, args: []code{b, a}, p: x.OpPos}
	case lang.LEQ:
		return &notCode{x: &callCode{fn: f, args: []code{b, a}, p: x.OpPos}, p: x.OpPos}
	case lang.GEQ:
		return &notCode{x: &callCode{fn: f, args: []code{a, b}, p: x.OpPos}, p: x.OpPos}
	}
	return &callCode{fn: f, args: []code{a, b}, p: x.OpPos}
}

func (cp *compiler) lambda(x *lang.Lambda) code {
	c := &lambdaCode{node: x}
	if x.Arg != "" {
		c.nslots++
	}
	for _, f := range x.Formals {
		fc := formalCode{name: Intern(f.Name)}
		c.formals = append(c.formals, fc)
		c.nslots++
	}
	for i, f := range x.Formals {
		if f.Default != nil {
			c.formals[i].def = cp.expr(f.Default)
		}
	}
	c.body = cp.expr(x.Body)
	c.strictArg = x.Arg != "" && !x.HasFormals && forcesArgFirst(c.body)
	return c
}

// forcesArgFirst reports whether evaluating a lambda's body c forces the
// argument (slot 0 of the call's scope) before it evaluates anything
// else: the first operand evaluated, through if conditions, comparisons,
// arithmetic and +, is the argument itself (or a constant, then the next).
func forcesArgFirst(c code) bool {
	switch c := c.(type) {
	case *varCode:
		return c.up == 0 && c.idx == 0
	case *ifCode:
		return forcesArgFirst(c.cond)
	case *eqCode:
		return firstOfTwoForcesArg(c.x, c.y)
	case *arithCode:
		if c.op == lang.GT || c.op == lang.LEQ {
			return firstOfTwoForcesArg(c.y, c.x) // evaluated in that order
		}
		return firstOfTwoForcesArg(c.x, c.y)
	case *concatCode:
		return len(c.parts) == 2 && !c.forceString && firstOfTwoForcesArg(c.parts[0], c.parts[1])
	}
	return false
}

func firstOfTwoForcesArg(first, second code) bool {
	if _, ok := first.(*constCode); ok {
		return forcesArgFirst(second)
	}
	return forcesArgFirst(first)
}

// bindCodes compiles the static attributes of a set or let, marking
// inherited ones.
func (cp *compiler) bindCodes(a *lang.Attrs) []attrDefCode {
	defs := make([]attrDefCode, len(a.Attrs))
	for i, d := range a.Attrs {
		var v code
		switch d.Kind {
		case lang.AttrPlain:
			v = cp.expr(d.Value)
		case lang.AttrInherited:
			v = &inheritedCode{value: cp.expr(d.Value)}
		case lang.AttrInheritedFrom:
			sel := d.Value.(*lang.Select)
			from := sel.X.(*lang.InheritFrom)
			v = &inheritFromSelect{idx: from.Index, name: Intern(d.Name), p: d.Pos}
		}
		defs[i] = attrDefCode{name: Intern(d.Name), value: v, p: d.Pos}
	}
	return defs
}

func (cp *compiler) attrs(x *lang.Attrs) code {
	c := &attrsCode{rec: x.Rec, overrides: -1, p: x.Start}
	c.inheritFrom = cp.exprs(x.InheritFrom)
	c.defs = cp.bindCodes(x)
	if x.Rec {
		for i, d := range x.Attrs {
			if d.Name == "__overrides" {
				c.overrides = i
			}
		}
	}
	for _, d := range x.Dynamic {
		c.dynamic = append(c.dynamic, dynAttrCode{name: cp.expr(d.Name), value: cp.expr(d.Value), p: d.Pos})
	}
	c.sortDefs()
	return c
}

func (cp *compiler) let(x *lang.Let) code {
	c := &letCode{p: x.Start}
	c.inheritFrom = cp.exprs(x.Attrs.InheritFrom)
	for _, d := range cp.bindCodes(x.Attrs) {
		c.binds = append(c.binds, d.value)
	}
	c.body = cp.expr(x.Body)
	return c
}

// errorCode fails with a fixed error (an undefined variable in a tree
// parsed tolerantly, say).
type errorCode struct {
	err *Error
	p   lang.Pos
}

func (c *errorCode) pos() lang.Pos { return c.p }
func (c *errorCode) eval(*Eval, *Env) (Value, error) {
	cp := *c.err
	return Value{}, &cp
}
