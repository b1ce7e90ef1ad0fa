package eval

import (
	"fmt"

	"github.com/nixl-project/nixl/lang"
)

// sameSlot reports whether two unforced values are the same object, which
// Nix treats as equal without looking (its pointer-equality shortcut for
// elements of lists and sets).
func sameSlot(a, b *Value) bool {
	if a == b {
		return true
	}
	if a.k != b.k || a.p == nil || a.p != b.p {
		return false
	}
	switch a.k {
	case KindThunk, KindAttrs, KindList, KindLambda, KindPrimOp, KindPrimOpApp:
		return a.n == b.n
	}
	return false
}

// Equal implements ==.
func (e *Eval) Equal(a, b Value, pos lang.Pos) (bool, error) {
	return e.equal(&a, &b, pos, true)
}

func (e *Eval) equal(a, b *Value, pos lang.Pos, top bool) (bool, error) {
	if !top && sameSlot(a, b) {
		return true, nil
	}
	if err := e.ForceAt(a, pos); err != nil {
		return false, err
	}
	if err := e.ForceAt(b, pos); err != nil {
		return false, err
	}
	if !top && sameSlot(a, b) {
		return true, nil
	}
	switch {
	case a.k == KindInt && b.k == KindFloat:
		return float64(a.IntValue()) == b.FloatValue(), nil
	case a.k == KindFloat && b.k == KindInt:
		return a.FloatValue() == float64(b.IntValue()), nil
	case a.k != b.k:
		return false, nil
	}
	switch a.k {
	case KindNull:
		return true, nil
	case KindBool, KindInt:
		return a.n == b.n, nil
	case KindFloat:
		return a.FloatValue() == b.FloatValue(), nil
	case KindString, KindPath:
		return a.Str() == b.Str(), nil
	case KindList:
		if a.n != b.n {
			return false, nil
		}
		return e.equalElems(a.ListValue(), b.ListValue(), pos)
	case KindAttrs:
		x, y := a.AttrsValue(), b.AttrsValue()
		isDrvA, err := e.IsDerivation(*a)
		if err != nil {
			return false, err
		}
		if isDrvA {
			isDrvB, err := e.IsDerivation(*b)
			if err != nil {
				return false, err
			}
			if isDrvB {
				i, j := x.Get(symOutPath), y.Get(symOutPath)
				if i != nil && j != nil {
					return e.equal(&i.Value, &j.Value, pos, false)
				}
			}
		}
		if len(x) != len(y) {
			return false, nil
		}
		return e.equalAttrs(x, y, pos)
	}
	// Functions compare unequal unless they are the same object.
	return false, nil
}

// equalElems and equalAttrs compare the insides of two lists or sets of
// the same length; functions of their own because of the defer, which
// would slow every return of equal.
func (e *Eval) equalElems(x, y []Value, pos lang.Pos) (bool, error) {
	if err := e.enterNested(pos); err != nil {
		return false, err
	}
	defer e.leaveNested()
	for i := range x {
		eq, err := e.equal(&x[i], &y[i], pos, false)
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

func (e *Eval) equalAttrs(x, y Attrs, pos lang.Pos) (bool, error) {
	if err := e.enterNested(pos); err != nil {
		return false, err
	}
	defer e.leaveNested()
	for i := range x {
		if x[i].Name != y[i].Name {
			return false, nil
		}
		eq, err := e.equal(&x[i].Value, &y[i].Value, pos, false)
		if err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// IsDerivation reports whether v (a set) has type = "derivation".
func (e *Eval) IsDerivation(v Value) (bool, error) {
	if v.k != KindAttrs {
		return false, nil
	}
	t := v.AttrsValue().Get(symType)
	if t == nil {
		return false, nil
	}
	if err := e.Force(&t.Value); err != nil {
		return false, err
	}
	return t.Value.k == KindString && t.Value.Str() == "derivation", nil
}

// LessThan implements < (and the order builtins.sort and lessThan use).
func (e *Eval) LessThan(a, b Value, pos lang.Pos) (bool, error) {
	if err := e.ForceAt(&a, pos); err != nil {
		return false, err
	}
	if err := e.ForceAt(&b, pos); err != nil {
		return false, err
	}
	switch {
	case a.k == KindFloat && b.k == KindInt:
		return a.FloatValue() < float64(b.IntValue()), nil
	case a.k == KindInt && b.k == KindFloat:
		return float64(a.IntValue()) < b.FloatValue(), nil
	case a.k != b.k:
		return false, Errorf(ErrEval, lang.NoPos, "cannot compare %s with %s; values are %s and %s", a.ShowType(), b.ShowType(), e.ShowValueShort(a), e.ShowValueShort(b))
	}
	switch a.k {
	case KindInt:
		return a.IntValue() < b.IntValue(), nil
	case KindFloat:
		return a.FloatValue() < b.FloatValue(), nil
	case KindString, KindPath:
		return a.Str() < b.Str(), nil
	case KindList:
		return e.lessThanLists(a.ListValue(), b.ListValue(), pos)
	}
	return false, Errorf(ErrEval, lang.NoPos, "cannot compare %s with %s; values of that type are incomparable (values are %s and %s)", a.ShowType(), b.ShowType(), e.ShowValueShort(a), e.ShowValueShort(b))
}

// lessThanLists orders two lists by their first differing element (a
// function of its own because of the defer, as equalElems).
func (e *Eval) lessThanLists(x, y []Value, pos lang.Pos) (bool, error) {
	if err := e.enterNested(pos); err != nil {
		return false, err
	}
	defer e.leaveNested()
	for i := 0; ; i++ {
		if i == len(y) {
			return false, nil
		}
		if i == len(x) {
			return true, nil
		}
		eq, err := e.equal(&x[i], &y[i], lang.NoPos, false)
		if err != nil {
			return false, err
		}
		if !eq {
			lt, err := e.LessThan(x[i], y[i], lang.NoPos)
			if err != nil {
				return false, addTrace(err, lang.NoPos, "while comparing two list elements")
			}
			return lt, nil
		}
	}
}

// assertEqual explains why a == b is false (for a failed assertion): it
// returns an error describing the first difference, or nil if there is
// none to show.
func (e *Eval) assertEqual(a, b Value, pos lang.Pos) (bool, error) {
	return true, e.explainUnequal(&a, &b, pos, true)
}

func (e *Eval) explainUnequal(a, b *Value, pos lang.Pos, top bool) error {
	if !top && sameSlot(a, b) {
		return nil
	}
	if err := e.ForceAt(a, pos); err != nil {
		return err
	}
	if err := e.ForceAt(b, pos); err != nil {
		return err
	}
	show := func(v Value) string { return e.ShowValueShort(v) }
	num := func(v Value) string {
		if v.k == KindInt {
			return "an integer with value '" + show(v) + "'"
		}
		return "a float with value '" + show(v) + "'"
	}
	isNum := func(v *Value) bool { return v.k == KindInt || v.k == KindFloat }
	if isNum(a) && isNum(b) {
		if eq, _ := e.equal(a, b, pos, false); eq {
			return nil
		}
		return Errorf(ErrAssertion, lang.NoPos, "%s is not equal to %s", num(*a), num(*b))
	}
	if a.k != b.k {
		return Errorf(ErrAssertion, lang.NoPos, "%s of value '%s' is not equal to %s of value '%s'", a.ShowType(), show(*a), b.ShowType(), show(*b))
	}
	switch a.k {
	case KindNull:
		return nil
	case KindBool:
		if a.n != b.n {
			return Errorf(ErrAssertion, lang.NoPos, "boolean '%s' is not equal to boolean '%s'", show(*a), show(*b))
		}
		return nil
	case KindString:
		if a.Str() != b.Str() {
			return Errorf(ErrAssertion, lang.NoPos, "string '%s' is not equal to string '%s'", show(*a), show(*b))
		}
		return nil
	case KindPath:
		if a.Str() != b.Str() {
			return Errorf(ErrAssertion, lang.NoPos, "path '%s' is not equal to path '%s'", a.Str(), b.Str())
		}
		return nil
	case KindList:
		x, y := a.ListValue(), b.ListValue()
		if len(x) != len(y) {
			return Errorf(ErrAssertion, lang.NoPos, "list of size '%d' is not equal to list of size '%d', left hand side is '%s', right hand side is '%s'", len(x), len(y), show(*a), show(*b))
		}
		if err := e.enterNested(pos); err != nil {
			return err
		}
		defer e.leaveNested()
		for i := range x {
			if err := e.explainUnequal(&x[i], &y[i], pos, false); err != nil {
				return addTrace(err, pos, fmt.Sprintf("while comparing list element %d", i))
			}
		}
		return nil
	case KindAttrs:
		x, y := a.AttrsValue(), b.AttrsValue()
		if err := e.enterNested(pos); err != nil {
			return err
		}
		defer e.leaveNested()
		if dA, _ := e.IsDerivation(*a); dA {
			if dB, _ := e.IsDerivation(*b); dB {
				i, j := x.Get(symOutPath), y.Get(symOutPath)
				if i != nil && j != nil {
					if err := e.explainUnequal(&i.Value, &j.Value, pos, false); err != nil {
						return addTrace(err, pos, "while comparing a derivation by its 'outPath' attribute")
					}
					return nil
				}
			}
		}
		sameNames := len(x) == len(y)
		for i := 0; sameNames && i < len(x); i++ {
			sameNames = x[i].Name == y[i].Name
		}
		if !sameNames {
			return Errorf(ErrAssertion, lang.NoPos, "attribute names of attribute set '%s' differs from attribute set '%s'", show(*a), show(*b))
		}
		for _, ax := range x.Lexicographic() {
			ay := y.Get(ax.Name)
			if err := e.explainUnequal(&ax.Value, &ay.Value, pos, false); err != nil {
				err = addTrace(err, ay.Pos(), "where right hand side is")
				err = addTrace(err, ax.Pos(), "where left hand side is")
				return addTrace(err, pos, "while comparing attribute '"+ax.Name.String()+"'")
			}
		}
		return nil
	case KindLambda, KindPrimOp, KindPrimOpApp:
		return Errorf(ErrAssertion, lang.NoPos, "distinct functions and immediate comparisons of identical functions compare as unequal")
	}
	if eq, _ := e.equal(a, b, pos, top); !eq {
		return Errorf(ErrAssertion, lang.NoPos, "%s is not equal to %s", show(*a), show(*b))
	}
	return nil
}
