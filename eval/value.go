package eval

import (
	"math"
	"unsafe"
)

// Kind is the type of a value.
type Kind uint8

const (
	KindInvalid Kind = iota // the zero Value; never seen by Nix code
	KindThunk               // not yet evaluated
	KindNull
	KindBool
	KindInt
	KindFloat
	KindString
	KindPath
	KindAttrs
	KindList
	KindLambda
	KindPrimOp
	KindPrimOpApp
)

// Value is a Nix value. It is a small struct passed by value: scalars are
// stored inline (no allocation for ints, floats, bools, null), strings,
// paths, lists and attribute sets keep a data pointer and a length, and
// everything else points to its object.
//
// A Value of KindThunk stands for a computation; Eval.Force replaces it in
// place by its result, so a forced slot never goes through the thunk again.
type Value struct {
	k Kind
	f uint8  // flags: hasContext for strings
	n uint64 // int, float bits, bool, or length
	p unsafe.Pointer
}

const (
	flagContext = 1 // a string with a context
	// flagUnforced marks a function value that Nix would still hold as an
	// unevaluated thunk (a lambda written as an argument, attribute or
	// list element). It matters for the position Nix derives from a value
	// (determinePos), which an unforced thunk does not have, and for
	// printing without forcing (<CODE>). Forcing the slot in place
	// (ForceAt) clears it. Unlike Nix's thunk, the flag is not shared by
	// copies: a function forced only through a copy (builtins.seq f …)
	// still prints as <CODE> through the others.
	flagUnforced = 2
	// flagLazyUpdate marks a set that is a lazyUpdate (attrs_lazy.go):
	// p points to the update, n is 0.
	flagLazyUpdate = 4
	// flagSym marks a string that is a symbol's name (SymString): p
	// points to the symbol's ctxString, without context, so that
	// selecting an attribute by the string needs no interning.
	flagSym = 8
)

// ctxString is a string with a context, pointed to by string values that
// have one.
type ctxString struct {
	s   string
	ctx Context
	sym Sym // for a flagSym string
}

var (
	// Null is the null value.
	Null  = Value{k: KindNull}
	True  = Value{k: KindBool, n: 1}
	False = Value{k: KindBool}
)

// Kind returns the kind of v (KindThunk if v is not forced).
func (v Value) Kind() Kind { return v.k }

// IsThunk reports whether v still needs forcing.
func (v Value) IsThunk() bool { return v.k == KindThunk }

// Bool makes a boolean.
func Bool(b bool) Value {
	if b {
		return True
	}
	return False
}

// Int makes an integer.
func Int(n int64) Value { return Value{k: KindInt, n: uint64(n)} }

// Float makes a float.
func Float(f float64) Value { return Value{k: KindFloat, n: math.Float64bits(f)} }

// String makes a string without context.
func String(s string) Value {
	return Value{k: KindString, n: uint64(len(s)), p: unsafe.Pointer(unsafe.StringData(s))}
}

// StringWithContext makes a string with a context.
func StringWithContext(s string, ctx Context) Value {
	if len(ctx) == 0 {
		return String(s)
	}
	return Value{k: KindString, f: flagContext, p: unsafe.Pointer(&ctxString{s: s, ctx: ctx})}
}

// Path makes a path value from an absolute, canonical path.
func Path(s string) Value {
	return Value{k: KindPath, n: uint64(len(s)), p: unsafe.Pointer(unsafe.StringData(s))}
}

// List makes a list; the slice is owned by the value from now on.
func List(elems []Value) Value {
	if len(elems) == 0 {
		return Value{k: KindList}
	}
	return Value{k: KindList, n: uint64(len(elems)), p: unsafe.Pointer(&elems[0])}
}

// AttrsValue makes an attribute set; attrs must be sorted by name symbol
// (see Attrs) and is owned by the value from now on.
func AttrsValue(attrs Attrs) Value {
	if len(attrs) == 0 {
		return Value{k: KindAttrs}
	}
	return Value{k: KindAttrs, n: uint64(len(attrs)), p: unsafe.Pointer(&attrs[0])}
}

// BoolValue returns the boolean of a KindBool value.
func (v Value) BoolValue() bool { return v.n != 0 }

// IntValue returns the integer of a KindInt value.
func (v Value) IntValue() int64 { return int64(v.n) }

// FloatValue returns the float of a KindFloat value.
func (v Value) FloatValue() float64 { return math.Float64frombits(v.n) }

// Str returns the text of a string or path value.
func (v Value) Str() string {
	if v.f&(flagContext|flagSym) != 0 {
		return (*ctxString)(v.p).s
	}
	return unsafe.String((*byte)(v.p), int(v.n))
}

// Context returns the context of a string value (nil if none).
func (v Value) Context() Context {
	if v.f&flagContext != 0 {
		return (*ctxString)(v.p).ctx
	}
	return nil
}

// HasContext reports whether a string value has a non-empty context.
func (v Value) HasContext() bool { return v.f&flagContext != 0 }

// ListValue returns the elements of a list value. They must not be
// modified (except for forcing thunks in place).
func (v Value) ListValue() []Value {
	if v.n == 0 {
		return nil
	}
	return unsafe.Slice((*Value)(v.p), int(v.n))
}

// Len is the length of a list or attribute set.
func (v Value) Len() int {
	if v.f&flagLazyUpdate != 0 {
		return len(v.AttrsValue())
	}
	return int(v.n)
}

// AttrsValue returns the attributes of a set value, sorted by symbol.
func (v Value) AttrsValue() Attrs {
	if v.f&flagLazyUpdate != 0 {
		return (*lazyUpdate)(v.p).attrs()
	}
	if v.n == 0 {
		return nil
	}
	return unsafe.Slice((*Attr)(v.p), int(v.n))
}

// Closure returns the function of a KindLambda value.
func (v Value) Closure() *Closure { return (*Closure)(v.p) }

// PrimOpValue returns the primop of a KindPrimOp value.
func (v Value) PrimOpValue() *PrimOp { return (*PrimOp)(v.p) }

// PrimOpApp returns the partial application of a KindPrimOpApp value.
func (v Value) PrimOpAppValue() *PrimOpApp { return (*PrimOpApp)(v.p) }

func (v Value) thunk() *Thunk { return (*Thunk)(v.p) }

// identity is the pointer that makes two values "the same object", used
// for the pointer-equality shortcut of nested comparisons in Nix.
func (v Value) identity() unsafe.Pointer { return v.p }

// IsFunction reports whether v (forced) can be called directly.
func (v Value) IsFunction() bool {
	return v.k == KindLambda || v.k == KindPrimOp || v.k == KindPrimOpApp
}

// TypeName is the name builtins.typeOf gives.
func (v Value) TypeName() string {
	switch v.k {
	case KindNull:
		return "null"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindString:
		return "string"
	case KindPath:
		return "path"
	case KindAttrs:
		return "set"
	case KindList:
		return "list"
	case KindLambda, KindPrimOp, KindPrimOpApp:
		return "lambda"
	case KindThunk:
		return "thunk"
	}
	return "invalid"
}

// ShowType describes the type of v for error messages ("an integer",
// "a set", "the built-in function 'map'").
func (v Value) ShowType() string {
	switch v.k {
	case KindNull:
		return "null"
	case KindBool:
		return "a Boolean"
	case KindInt:
		return "an integer"
	case KindFloat:
		return "a float"
	case KindString:
		if v.HasContext() {
			return "a string with context"
		}
		return "a string"
	case KindPath:
		return "a path"
	case KindAttrs:
		return "a set"
	case KindList:
		return "a list"
	case KindLambda:
		return "a function"
	case KindPrimOp:
		return "the built-in function '" + v.PrimOpValue().Name + "'"
	case KindPrimOpApp:
		return "the partially applied built-in function '" + v.PrimOpAppValue().Op.Name + "'"
	case KindThunk:
		return "a thunk"
	}
	return "an invalid value"
}
