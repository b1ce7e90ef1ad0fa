package eval

import (
	"math"
	"strconv"

	"github.com/nixl-project/nixl/lang"
)

// The Force* helpers force a value and check its type. On a type error
// the message is Nix's ("expected a list but found an integer: 1") and
// ctx ("while evaluating the first argument passed to builtins.length")
// becomes a trace frame at pos.

func (e *Eval) typeError(v Value, want string, pos lang.Pos, ctx string) error {
	err := TypeErrorf(pos, "expected %s but found %s: %s", want, v.ShowType(), e.ShowValueShort(v))
	return addTrace(err, pos, ctx)
}

func (e *Eval) forceKind(v *Value, k Kind, want string, pos lang.Pos, ctx string) error {
	if err := e.ForceAt(v, pos); err != nil {
		return err
	}
	if v.k != k {
		return e.typeError(*v, want, pos, ctx)
	}
	return nil
}

// ForceInt forces v to an integer.
func (e *Eval) ForceInt(v Value, pos lang.Pos, ctx string) (int64, error) {
	if err := e.forceKind(&v, KindInt, "an integer", pos, ctx); err != nil {
		return 0, err
	}
	return v.IntValue(), nil
}

// ForceFloat forces v to a number and returns it as a float.
func (e *Eval) ForceFloat(v Value, pos lang.Pos, ctx string) (float64, error) {
	if err := e.ForceAt(&v, pos); err != nil {
		return 0, err
	}
	switch v.k {
	case KindInt:
		return float64(v.IntValue()), nil
	case KindFloat:
		return v.FloatValue(), nil
	}
	return 0, e.typeError(v, "a float", pos, ctx)
}

// ForceBool forces v to a Boolean.
func (e *Eval) ForceBool(v Value, pos lang.Pos, ctx string) (bool, error) {
	if err := e.forceKind(&v, KindBool, "a Boolean", pos, ctx); err != nil {
		return false, err
	}
	return v.BoolValue(), nil
}

// ForceList forces v to a list.
func (e *Eval) ForceList(v Value, pos lang.Pos, ctx string) ([]Value, error) {
	if err := e.forceKind(&v, KindList, "a list", pos, ctx); err != nil {
		return nil, err
	}
	return v.ListValue(), nil
}

// ForceAttrs forces v to a set.
func (e *Eval) ForceAttrs(v Value, pos lang.Pos, ctx string) (Attrs, error) {
	if err := e.forceKind(&v, KindAttrs, "a set", pos, ctx); err != nil {
		return nil, err
	}
	return v.AttrsValue(), nil
}

// ForceFunction forces v to something callable (a function, a primop or
// a set with __functor).
func (e *Eval) ForceFunction(v Value, pos lang.Pos, ctx string) (Value, error) {
	if err := e.ForceAt(&v, pos); err != nil {
		return Value{}, err
	}
	if v.IsFunction() || v.k == KindAttrs && v.AttrsValue().Get(symFunctor) != nil {
		return v, nil
	}
	return Value{}, e.typeError(v, "a function", pos, ctx)
}

// ForceString forces v to a string and returns it with its context.
func (e *Eval) ForceString(v Value, pos lang.Pos, ctx string) (string, Context, error) {
	if err := e.forceKind(&v, KindString, "a string", pos, ctx); err != nil {
		return "", nil, err
	}
	return v.Str(), v.Context(), nil
}

// ForceAttrName forces v to a string without context, as
// ForceStringNoCtx, and returns it with its symbol: directly for a string
// attrNames made (SymString), interned otherwise.
func (e *Eval) ForceAttrName(v Value, pos lang.Pos, ctx string) (Sym, string, error) {
	if v.k == KindThunk && v.thunk().val.k == KindInvalid {
		// A pending "name${…}" is joined straight into a symbol.
		r, err := e.evalThunkAs(v.thunk(), pos, true)
		if err != nil {
			return 0, "", err
		}
		v = r
	} else if err := e.ForceAt(&v, pos); err != nil {
		return 0, "", err // as ForceStringNoCtx: no frame for the forcing
	}
	if sym, ok := SymOf(v); ok {
		return sym, v.Str(), nil
	}
	s, err := e.ForceStringNoCtx(v, pos, ctx)
	if err != nil {
		return 0, "", err
	}
	return Intern(s), s, nil
}

// ForceStringNoCtx forces v to a string that must not refer to store paths.
func (e *Eval) ForceStringNoCtx(v Value, pos lang.Pos, ctx string) (string, error) {
	if err := e.forceKind(&v, KindString, "a string", pos, ctx); err != nil {
		return "", err
	}
	if c := v.Context(); len(c) > 0 {
		err := Errorf(ErrEval, pos, "the string '%s' is not allowed to refer to a store path (such as '%s')", v.Str(), contextPath(c[0]))
		return "", addTrace(err, pos, ctx)
	}
	return v.Str(), nil
}

// contextPath is the store path named by a context element.
func contextPath(elem string) string {
	switch {
	case len(elem) > 0 && elem[0] == '=':
		return elem[1:]
	case len(elem) > 0 && elem[0] == '!':
		for i := 1; i < len(elem); i++ {
			if elem[i] == '!' {
				return elem[i+1:]
			}
		}
	}
	return elem
}

// CoerceOptions say how far CoerceToString goes.
type CoerceOptions struct {
	// More allows what toString allows beyond strings, paths and sets
	// with outPath/__toString: Booleans, null, numbers, lists.
	More bool
	// CopyToStore copies paths into the store and yields store paths
	// (string interpolation); otherwise paths stay paths.
	CopyToStore bool
	// CanonicalPath canonicalises a path that is not copied.
	CanonicalPath bool
}

// CoerceToString turns v into a string as Nix does for interpolation and
// toString; ctx becomes the trace frame of a coercion error.
func (e *Eval) CoerceToString(v Value, pos lang.Pos, opts CoerceOptions, ctx string) (string, Context, error) {
	if err := e.ForceAt(&v, pos); err != nil {
		return "", nil, err
	}
	switch v.k {
	case KindString:
		return v.Str(), v.Context(), nil
	case KindPath:
		if opts.CopyToStore {
			p, err := e.CopyPathToStore(v.Str(), pos)
			if err != nil {
				return "", nil, err
			}
			return p, NewContext(ContextOpaque(p)), nil
		}
		return v.Str(), nil, nil
	case KindAttrs:
		attrs := v.AttrsValue()
		if f := attrs.Get(symToString); f != nil {
			r, err := e.CallFunction(f.Value, []Value{v}, f.Pos())
			if err != nil {
				return "", nil, addTrace(err, f.Pos(), "while calling the `__toString` attribute")
			}
			s, c, err := e.CoerceToString(r, pos, opts, ctx)
			if err != nil {
				return "", nil, addTrace(err, f.Pos(), "while using the result of the `__toString` attribute")
			}
			return s, c, nil
		}
		if o := attrs.Get(symOutPath); o != nil {
			ov := o.Value
			if err := e.ForceAt(&ov, o.Pos()); err != nil {
				return "", nil, addTrace(err, o.Pos(), "while evaluating the `outPath` attribute")
			}
			s, c, err := e.CoerceToString(ov, pos, opts, ctx)
			if err != nil {
				return "", nil, addTrace(err, o.Pos(), "while using the `outPath` attribute")
			}
			return s, c, nil
		}
	}
	if opts.More {
		switch v.k {
		case KindBool:
			if v.BoolValue() {
				return "1", nil, nil
			}
			return "", nil, nil
		case KindNull:
			return "", nil, nil
		case KindInt:
			return strconv.FormatInt(v.IntValue(), 10), nil, nil
		case KindFloat:
			return formatFloatFixed(v.FloatValue()), nil, nil
		case KindList:
			return e.coerceList(v, pos, opts, ctx)
		}
	}
	err := TypeErrorf(lang.NoPos, "cannot coerce %s to a string: %s", v.ShowType(), e.ShowValueShort(v))
	return "", nil, addTrace(err, pos, ctx)
}

// coerceList is CoerceToString of a list (with CoerceOptions.More): the
// elements joined by spaces. A function of its own because of the defer,
// which would slow every return of CoerceToString.
func (e *Eval) coerceList(v Value, pos lang.Pos, opts CoerceOptions, ctx string) (string, Context, error) {
	var buf [256]byte // most lists make short strings
	out := buf[:0]
	var cb ContextBuilder
	elems := v.ListValue()
	if err := e.enterNested(pos); err != nil {
		return "", nil, err
	}
	defer e.leaveNested()
	for i := range elems {
		s, c, err := e.CoerceToString(elems[i], pos, opts, "while evaluating one element of the list")
		if err != nil {
			return "", nil, addTrace(err, pos, ctx)
		}
		if n := len(out) + len(s) + 1; n >= sizeCheckFrom {
			if err := e.CheckStringSize(n, pos); err != nil {
				return "", nil, err
			}
		}
		out = append(out, s...)
		cb.Add(c)
		if i < len(elems)-1 {
			if err := e.Force(&elems[i]); err != nil {
				return "", nil, err
			}
			if elems[i].k != KindList || elems[i].n != 0 {
				out = append(out, ' ')
			}
		}
	}
	return string(out), cb.Context(), nil
}

// CoerceToPath turns v into an absolute path (a path, or a string that
// starts with /).
func (e *Eval) CoerceToPath(v Value, pos lang.Pos, ctx string) (string, Context, error) {
	s, c, err := e.CoerceToString(v, pos, CoerceOptions{}, ctx)
	if err != nil {
		return "", nil, err
	}
	if s == "" || s[0] != '/' {
		err := Errorf(ErrEval, pos, "string '%s' doesn't represent an absolute path", s)
		return "", nil, addTrace(err, pos, ctx)
	}
	return s, c, nil
}

// formatFloatFixed formats like C's std::to_string (%f): six decimals,
// and inf, -inf, nan or -nan for the special values.
func formatFloatFixed(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}
