package eval

import (
	"sort"

	"github.com/nixl-project/nixl/lang"
)

// attrsCode is { … } or rec { … }.
type attrsCode struct {
	rec  bool
	defs []attrDefCode // in scope-slot order (the resolver's order)
	// order lists def indexes sorted by symbol, the order of the result.
	order       []int
	inheritFrom []code
	dynamic     []dynAttrCode
	// overrides is the slot of __overrides in a rec set, or -1.
	overrides int
	p         lang.Pos
}

type attrDefCode struct {
	name  Sym
	value code // *inheritedCode and *inheritFromSelect mark the other kinds
	p     lang.Pos
}

type dynAttrCode struct {
	name, value code
	p           lang.Pos
}

func (c *attrsCode) pos() lang.Pos { return c.p }

// sortDefs computes the result order of the static attributes.
func (c *attrsCode) sortDefs() {
	c.order = make([]int, len(c.defs))
	for i := range c.order {
		c.order[i] = i
	}
	sort.Slice(c.order, func(i, j int) bool { return c.defs[c.order[i]].name < c.defs[c.order[j]].name })
}

func (c *attrsCode) eval(e *Eval, env *Env) (Value, error) {
	scope := env // where plain values are evaluated
	if c.rec {
		scope = newEnv(env, len(c.defs))
	}
	fromEnv := scope
	if len(c.inheritFrom) > 0 {
		fromEnv = newEnv(scope, len(c.inheritFrom))
		for i := range c.inheritFrom {
			fromEnv.vals()[i] = mkThunk(&c.inheritFrom[i], e, scope)
		}
	}
	attrs := make(Attrs, len(c.defs), len(c.defs)+len(c.dynamic))
	for k, i := range c.order {
		d := &c.defs[i]
		var v Value
		switch x := d.value.(type) {
		case *inheritedCode:
			v = mkThunk(&x.value, e, env)
		case *inheritFromSelect:
			v = mkThunk(&d.value, e, fromEnv)
		default:
			if c.overrides >= 0 {
				v = thunkValue(codeThunk(&d.value, scope))
			} else {
				v = mkThunk(&d.value, e, scope)
			}
		}
		if c.rec {
			scope.vals()[i] = v
		}
		attrs[k] = Attr{Name: d.name, Value: v, pos: int32(d.p)}
	}
	if c.overrides >= 0 {
		var err error
		if attrs, err = c.applyOverrides(e, scope, attrs); err != nil {
			return Value{}, err
		}
	}
	for i := range c.dynamic {
		d := &c.dynamic[i]
		nv, err := evalAsName(d.name, e, scope)
		if err != nil {
			return Value{}, err
		}
		if nv.k == KindNull {
			continue
		}
		sym, name, err := e.ForceAttrName(nv, d.p, "while evaluating the name of a dynamic attribute")
		if err != nil {
			return Value{}, err
		}
		if old := attrs.Get(sym); old != nil {
			return Value{}, Errorf(ErrEval, d.p, "dynamic attribute '%s' already defined at %s", name, e.fset.Position(old.Pos()))
		}
		attrs = append(attrs, Attr{Name: sym, Value: mkThunk(&d.value, e, scope), pos: int32(d.p)})
		sortAttrsInPlace(attrs)
	}
	return AttrsValue(attrs), nil
}

func sortAttrsInPlace(a Attrs) {
	for i := len(a) - 1; i > 0 && a[i].Name < a[i-1].Name; i-- {
		a[i], a[i-1] = a[i-1], a[i]
	}
}

// applyOverrides implements rec { __overrides = …; }: the attributes of
// __overrides replace those of the set, also as seen from inside it.
func (c *attrsCode) applyOverrides(e *Eval, scope *Env, attrs Attrs) (Attrs, error) {
	ov := &scope.vals()[c.overrides]
	if err := e.ForceAt(ov, c.p); err != nil {
		return nil, err
	}
	if ov.k != KindAttrs {
		err := TypeErrorf(lang.NoPos, "expected a set but found %s: %s", ov.ShowType(), e.ShowValueShort(*ov))
		return nil, addTrace(err, lang.NoPos, "while evaluating the `__overrides` attribute")
	}
	out := append(Attrs(nil), attrs...)
	for _, o := range ov.AttrsValue() {
		replaced := false
		for i, d := range c.defs {
			if d.name == o.Name {
				scope.vals()[i] = o.Value
				out.Get(o.Name).Value = o.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return SortAttrs(out), nil
}

// attrKey is one element of an attribute path.
type attrKey struct {
	sym Sym
	dyn code // for "${e}"
	p   lang.Pos
}

func (e *Eval) attrName(k *attrKey, env *Env) (Sym, error) {
	if k.dyn == nil {
		return k.sym, nil
	}
	v, err := evalAsName(k.dyn, e, env)
	if err != nil {
		return 0, err
	}
	sym, _, err := e.ForceAttrName(v, k.dyn.pos(), "while evaluating an attribute name")
	return sym, err
}

// evalAsName evaluates the expression of a dynamic attribute name: an
// interpolation as a name (concatCode.evalName).
func evalAsName(c code, e *Eval, env *Env) (Value, error) {
	if cc, ok := c.(*concatCode); ok {
		return cc.evalName(e, env)
	}
	return c.eval(e, env)
}

// selectCode is e.a.b, optionally with `or default`.
type selectCode struct {
	x    code
	path []attrKey
	def  code
	text []string // the path elements as Nix shows them
	p    lang.Pos
}

func (c *selectCode) pos() lang.Pos { return c.p }

func (c *selectCode) eval(e *Eval, env *Env) (Value, error) {
	subject, err := c.x.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.p, "while selecting an attribute")
	}
	// The commonest select, x.name, found and already evaluated: no
	// bookkeeping for error traces.
	if len(c.path) == 1 && c.path[0].dyn == nil && subject.k == KindAttrs {
		if a := subject.AttrsValue().Get(c.path[0].sym); a != nil && a.Value.k != KindThunk && a.Value.k != KindLambda {
			return a.Value, nil
		}
	}
	return c.evalPath(e, env, subject)
}

// evalPath selects the path from subject, forcing what it meets.
func (c *selectCode) evalPath(e *Eval, env *Env, subject Value) (Value, error) {
	cur := &subject
	var defPos lang.Pos
	done := 0
	fail := func(err error) (Value, error) {
		if defPos.IsValid() {
			err = addTrace(err, defPos, "from the definition of '"+joinPath(c.text[:done])+"'")
		}
		return Value{}, addTrace(err, c.p, "while evaluating the attribute '"+joinPath(c.text)+"'")
	}
	for i := range c.path {
		k := &c.path[i]
		name, err := e.attrName(k, env)
		if err != nil {
			return fail(err)
		}
		if err := e.ForceAt(cur, c.p); err != nil {
			return fail(err)
		}
		if cur.k != KindAttrs {
			if c.def != nil {
				return c.def.eval(e, env)
			}
			err := TypeErrorf(c.p, "expected a set but found %s: %s", cur.ShowType(), e.ShowValueShort(*cur))
			return fail(addTrace(err, c.p, "while selecting an attribute"))
		}
		a := cur.AttrsValue().Get(name)
		if a == nil {
			if c.def != nil {
				return c.def.eval(e, env)
			}
			return fail(e.missingAttr(*cur, name, c.p))
		}
		cur = &a.Value
		defPos = a.Pos()
		done = i + 1
	}
	forcePos := defPos
	if !forcePos.IsValid() {
		forcePos = c.p
	}
	if err := e.ForceAt(cur, forcePos); err != nil {
		return fail(err)
	}
	return *cur, nil
}

func joinPath(parts []string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, p...)
	}
	return string(b)
}

// hasAttrCode is e ? a.b.
type hasAttrCode struct {
	x    code
	path []attrKey
	p    lang.Pos
}

func (c *hasAttrCode) pos() lang.Pos { return c.p }

func (c *hasAttrCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.x.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.x.pos(), "in the argument of '?'")
	}
	cur := &v
	for i := range c.path {
		if err := e.ForceAt(cur, c.p); err != nil {
			return Value{}, err
		}
		name, err := e.attrName(&c.path[i], env)
		if err != nil {
			return Value{}, err
		}
		if cur.k != KindAttrs {
			return False, nil
		}
		a := cur.AttrsValue().Get(name)
		if a == nil {
			return False, nil
		}
		cur = &a.Value
	}
	return True, nil
}

// updateCode is a // b.
type updateCode struct {
	x, y code
	p    lang.Pos
}

func (c *updateCode) pos() lang.Pos { return c.p }

func (c *updateCode) eval(e *Eval, env *Env) (Value, error) {
	a, err := c.x.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.x.pos(), "in the left operand of '//'")
	}
	if a.k != KindAttrs {
		err := TypeErrorf(c.x.pos(), "expected a set but found %s: %s", a.ShowType(), e.ShowValueShort(a))
		return Value{}, addTrace(err, c.x.pos(), "in the left operand of the update (//) operator")
	}
	b, err := c.y.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.y.pos(), "in the right operand of '//'")
	}
	if b.k != KindAttrs {
		err := TypeErrorf(c.y.pos(), "expected a set but found %s: %s", b.ShowType(), e.ShowValueShort(b))
		return Value{}, addTrace(err, c.y.pos(), "in the right operand of the update (//) operator")
	}
	return UpdateAttrs(a, b), nil
}

// UpdateAttrs returns a // b for two sets. A few attributes laid over a
// big set make a lazyUpdate (attrs_lazy.go); otherwise the result is
// merged at once.
func UpdateAttrs(a, b Value) Value {
	y := b.AttrsValue()
	if len(y) == 0 {
		return a
	}
	if v, ok := updateLazily(a, y); ok {
		return v
	}
	x := a.AttrsValue()
	if len(x) == 0 {
		return b
	}
	return AttrsValue(mergeAttrs(x, y))
}

// MergeAttrs is x // y as a new array, which the caller owns (to finish
// values that refer to the set itself before making it a value).
func MergeAttrs(x, y Attrs) Attrs { return mergeAttrs(x, y) }

// mergeAttrs is x // y for two non-empty sets.
func mergeAttrs(x, y Attrs) Attrs {
	out := make(Attrs, 0, len(x)+len(y))
	i := 0
	for _, b := range y {
		// Copy the run of x before b in one go (a small set merged into
		// a big one, as in a fold, is then a few block copies).
		k := i + searchAttrs(x[i:], b.Name)
		out = append(out, x[i:k]...)
		out = append(out, b)
		i = k
		if i < len(x) && x[i].Name == b.Name {
			i++
		}
	}
	return append(out, x[i:]...)
}

// searchAttrs is the index of the first attribute not before name.
func searchAttrs(a Attrs, name Sym) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
