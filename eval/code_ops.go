package eval

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

// concatCode is a + b + … and string interpolation ("a${b}c", ./a/${b}):
// Nix's ExprConcatStrings. With forceString (interpolation) every part is
// coerced to a string; otherwise the first operand's type decides between
// integer or float addition, path concatenation and string concatenation.
type concatCode struct {
	parts       []code
	partPos     []lang.Pos
	forceString bool
	p           lang.Pos
}

func (c *concatCode) pos() lang.Pos { return c.p }

func (c *concatCode) eval(e *Eval, env *Env) (Value, error) {
	// The common case a + b with two numbers: no allocation, a small
	// stack frame (recursions like n + f (n - 1) go through here).
	if !c.forceString && len(c.parts) == 2 {
		a, err := c.parts[0].eval(e, env)
		if err != nil {
			return Value{}, c.operandError(err, 0)
		}
		if a.k == KindInt || a.k == KindFloat {
			b, err := c.parts[1].eval(e, env)
			if err != nil {
				return Value{}, c.operandError(err, 1)
			}
			if a.k == KindInt && b.k == KindInt {
				x, y := a.IntValue(), b.IntValue()
				if r := x + y; (r > x) == (y > 0) {
					return Int(r), nil
				}
			}
			return e.add(a, b, c.partPos[1])
		}
		return c.concat(e, env, a)
	}
	return c.concat(e, env, Value{})
}

//go:noinline
func (c *concatCode) operandError(err error, i int) error {
	return addTrace(err, c.partPos[i], "in an operand of '+'")
}

// add adds two numbers (a is an int or a float).
//
//go:noinline
func (e *Eval) add(a, b Value, pos lang.Pos) (Value, error) {
	if a.k == KindInt {
		switch b.k {
		case KindInt:
			x, y := a.IntValue(), b.IntValue()
			r := x + y
			if (r > x) != (y > 0) {
				return Value{}, Errorf(ErrEval, pos, "integer overflow in adding %d + %d", x, y)
			}
			return Int(r), nil
		case KindFloat:
			return Float(float64(a.IntValue()) + b.FloatValue()), nil
		}
		return Value{}, Errorf(ErrEval, pos, "cannot add %s to an integer", b.ShowType())
	}
	switch b.k {
	case KindInt:
		return Float(a.FloatValue() + float64(b.IntValue())), nil
	case KindFloat:
		return Float(a.FloatValue() + b.FloatValue()), nil
	}
	return Value{}, Errorf(ErrEval, pos, "cannot add %s to a float", b.ShowType())
}

func (c *concatCode) concat(e *Eval, env *Env, first Value) (Value, error) {
	mark := len(e.digits)
	v, err := c.join(e, env, first, false)
	e.digits = e.digits[:mark]
	return v, err
}

// evalName is eval for a value wanted as an attribute name (a dynamic
// attribute, listToAttrs' name): a string without context comes out as
// the symbol's own string (SymString), joined in scratch space and
// interned rather than allocated and then interned.
func (c *concatCode) evalName(e *Eval, env *Env) (Value, error) {
	if !c.forceString {
		return c.eval(e, env)
	}
	mark := len(e.digits)
	v, err := c.join(e, env, Value{}, true)
	e.digits = e.digits[:mark]
	return v, err
}

// join collects the pieces and joins them in one allocation. toString of
// an integer known without evaluating anything ("w${toString i}") is
// written into e.digits instead of a string of its own. Such a piece is
// never the first, so the result is always a copy (joinPieces returns a
// piece as it is only when it is the only one).
func (c *concatCode) join(e *Eval, env *Env, first Value, asName bool) (Value, error) {
	var pieceBuf [8]string
	pieces := pieceBuf[:0]
	total := 0
	var ctx ContextBuilder
	firstKind := KindString
	var num Value
	for i, part := range c.parts {
		var v Value
		if ts, ok := part.(*toStringCode); ok && i > 0 && firstKind == KindString {
			// toString of an integer: its digits go into e.digits, not
			// into a string of their own.
			n, isInt, r, err := ts.intOrValue(e, env)
			if err != nil {
				if !c.forceString {
					err = addTrace(err, c.partPos[i], "in an operand of '+'")
				}
				return Value{}, err
			}
			if isInt {
				start := len(e.digits)
				e.digits = strconv.AppendInt(e.digits, n, 10)
				d := e.digits[start:]
				if n := total + len(d); n >= sizeCheckFrom {
					if err := e.CheckStringSize(n, c.p); err != nil {
						return Value{}, err
					}
				}
				pieces = append(pieces, unsafe.String(&d[0], len(d)))
				total += len(d)
				continue
			}
			v = r
		} else if i == 0 && first.k != KindInvalid {
			v = first
		} else {
			var err error
			v, err = part.eval(e, env)
			if err != nil {
				if !c.forceString {
					err = addTrace(err, c.partPos[i], "in an operand of '+'")
				}
				return Value{}, err
			}
		}
		if i == 0 && !c.forceString {
			firstKind = v.k
			if v.k == KindInt || v.k == KindFloat {
				num = v
				continue
			}
		}
		switch firstKind {
		case KindInt, KindFloat:
			r, err := e.add(num, v, c.partPos[i])
			if err != nil {
				return Value{}, err
			}
			num = r
			continue
		}
		var s string
		var sctx Context
		if v.k == KindString && v.f&flagContext == 0 {
			s = v.Str() // the usual piece, without the call
		} else {
			var err error
			s, sctx, err = e.CoerceToString(v, c.partPos[i], CoerceOptions{
				CopyToStore:   firstKind == KindString,
				CanonicalPath: i != 0 || c.forceString,
			}, "while evaluating a path segment")
			if err != nil {
				return Value{}, err
			}
		}
		if n := total + len(s); n >= sizeCheckFrom {
			if err := e.CheckStringSize(n, c.p); err != nil {
				return Value{}, err
			}
		}
		pieces = append(pieces, s)
		total += len(s)
		ctx.Add(sctx)
	}
	switch firstKind {
	case KindInt, KindFloat:
		return num, nil
	case KindPath:
		if !ctx.empty() {
			return Value{}, Errorf(ErrEval, c.p, "a string that refers to a store path cannot be appended to a path")
		}
		return Path(CanonPath(joinPieces(pieces, total))), nil
	}
	if asName && ctx.empty() {
		start := len(e.digits)
		for _, p := range pieces {
			e.digits = append(e.digits, p...)
		}
		return SymString(InternBytes(e.digits[start:])), nil
	}
	return StringWithContext(joinPieces(pieces, total), ctx.Context()), nil
}

// joinPieces concatenates pieces, of total length total.
func joinPieces(pieces []string, total int) string {
	switch {
	case total == 0:
		return ""
	case len(pieces) == 1:
		return pieces[0]
	}
	var b strings.Builder // Grow does not zero the memory
	b.Grow(total)
	for _, p := range pieces {
		b.WriteString(p)
	}
	return b.String()
}

// CanonPath normalises an absolute path: no ".", "..", repeated or
// trailing slashes.
func CanonPath(p string) string {
	if p == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(p))
	parts := strings.Split(p, "/")
	stack := make([]string, 0, len(parts))
	for _, s := range parts {
		switch s {
		case "", ".":
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, s)
		}
	}
	if len(stack) == 0 {
		return "/"
	}
	for _, s := range stack {
		b.WriteByte('/')
		b.WriteString(s)
	}
	return b.String()
}

// concatListsCode is a ++ b.
type concatListsCode struct {
	x, y code
	p    lang.Pos
}

func (c *concatListsCode) pos() lang.Pos { return c.p }

func (c *concatListsCode) eval(e *Eval, env *Env) (Value, error) {
	a, err := c.x.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.x.pos(), "in the left operand of '++'")
	}
	if a.k != KindList {
		err := TypeErrorf(lang.NoPos, "expected a list but found %s: %s", a.ShowType(), e.ShowValueShort(a))
		return Value{}, addTrace(err, c.p, "while evaluating one of the elements to concatenate")
	}
	b, err := c.y.eval(e, env)
	if err != nil {
		return Value{}, addTrace(err, c.y.pos(), "in the right operand of '++'")
	}
	if b.k != KindList {
		err := TypeErrorf(lang.NoPos, "expected a list but found %s: %s", b.ShowType(), e.ShowValueShort(b))
		return Value{}, addTrace(err, c.p, "while evaluating one of the elements to concatenate")
	}
	if a.n == 0 {
		return b, nil
	}
	if b.n == 0 {
		return a, nil
	}
	if n := a.n + b.n; n >= uint64(sizeCheckFrom) {
		if err := e.CheckListSize(int64(n), c.p); err != nil {
			return Value{}, err
		}
	}
	out := make([]Value, 0, a.n+b.n)
	out = append(append(out, a.ListValue()...), b.ListValue()...)
	return List(out), nil
}

// arithCode is a built-in arithmetic or comparison operator whose
// function (__sub, __mul, __div, __lessThan) has not been redefined: it is
// computed inline, with the frames Nix shows for the builtin call.
type arithCode struct {
	op   lang.TokenKind
	x, y code
	p    lang.Pos
}

func (c *arithCode) pos() lang.Pos { return c.p }

func (c *arithCode) eval(e *Eval, env *Env) (Value, error) {
	x, y := c.x, c.y
	if c.op == lang.GT || c.op == lang.LEQ {
		x, y = y, x
	}
	a, err := x.eval(e, env)
	if err == nil {
		var b Value
		b, err = y.eval(e, env)
		if err == nil {
			if a.k == KindInt && b.k == KindInt {
				if r, ok := c.intFast(a.IntValue(), b.IntValue()); ok {
					return r, nil
				}
			}
			var r Value
			r, err = c.apply(e, a, b)
			if err == nil {
				return r, nil
			}
		}
	}
	return Value{}, c.opError(err)
}

// eager computes the operator right away when that cannot fail: both
// operands are variables or constants already holding integers (peek).
// It is for values consumed at once (toString (n - 1)): a value kept
// unevaluated must stay a thunk, as printing it without forcing shows.
func (c *arithCode) eager(env *Env) (Value, bool) {
	a, ok := peek(c.x, env)
	if !ok || a.k != KindInt {
		return Value{}, false
	}
	b, ok := peek(c.y, env)
	if !ok || b.k != KindInt {
		return Value{}, false
	}
	x, y := a.IntValue(), b.IntValue()
	if c.op == lang.GT || c.op == lang.LEQ {
		x, y = y, x
	}
	return c.intFast(x, y)
}

// peek returns the value of a constant, an already evaluated variable or
// integer arithmetic on those that cannot fail, without evaluating
// anything.
func peek(c code, env *Env) (Value, bool) {
	switch c := c.(type) {
	case *constCode:
		return c.v, true
	case *arithCode:
		return c.eager(env)
	case *varCode:
		v := *c.slot(env)
		if v.k == KindThunk {
			t := v.thunk()
			if !t.isDone() {
				return Value{}, false
			}
			v = t.val
		}
		return v, v.k != KindInvalid
	}
	return Value{}, false
}

// intFast computes the operator on two integers when no error is
// possible (no overflow, no division by zero).
func (c *arithCode) intFast(x, y int64) (Value, bool) {
	switch c.op {
	case lang.MINUS:
		r := x - y
		return Int(r), (r < x) == (y > 0)
	case lang.STAR:
		if x > -(1<<31) && x < 1<<31 && y > -(1<<31) && y < 1<<31 {
			return Int(x * y), true
		}
	case lang.SLASH:
		if y != 0 && y != -1 {
			return Int(x / y), true
		}
	case lang.LT, lang.GT:
		return Bool(x < y), true
	case lang.LEQ, lang.GEQ:
		return Bool(!(x < y)), true
	}
	return Value{}, false
}

//go:noinline
func (c *arithCode) opError(err error) error {
	name := arithBuiltin(c.op)
	err = addTrace(err, c.p, "while calling the '"+name+"' builtin")
	if c.op == lang.LEQ || c.op == lang.GEQ {
		err = addTrace(err, c.p, "in the argument of '!'")
	}
	return err
}

func arithBuiltin(op lang.TokenKind) string {
	switch op {
	case lang.MINUS:
		return "sub"
	case lang.STAR:
		return "mul"
	case lang.SLASH:
		return "div"
	}
	return "lessThan"
}

func (c *arithCode) apply(e *Eval, a, b Value) (Value, error) {
	switch c.op {
	case lang.MINUS:
		return e.Arith('-', a, b)
	case lang.STAR:
		return e.Arith('*', a, b)
	case lang.SLASH:
		return e.Arith('/', a, b)
	}
	less, err := e.LessThan(a, b, lang.NoPos)
	if err != nil {
		return Value{}, err
	}
	if c.op == lang.LEQ || c.op == lang.GEQ {
		less = !less
	}
	return Bool(less), nil
}

// negCode is -x with the builtin __sub.
type negCode struct {
	x code
	p lang.Pos
}

func (c *negCode) pos() lang.Pos { return c.p }

func (c *negCode) eval(e *Eval, env *Env) (Value, error) {
	v, err := c.x.eval(e, env)
	if err == nil {
		v, err = e.Arith('-', Int(0), v)
		if err == nil {
			return v, nil
		}
	}
	return Value{}, addTrace(err, c.p, "while calling the 'sub' builtin")
}

// Arith applies + - * / to two numbers with Nix's rules and messages:
// two integers give an integer (overflow is an error), otherwise both are
// taken as floats. Division checks its second operand first.
func (e *Eval) Arith(op byte, a, b Value) (Value, error) {
	if err := e.Force(&a); err != nil {
		return Value{}, err
	}
	if err := e.Force(&b); err != nil {
		return Value{}, err
	}
	if op == '/' {
		return e.divide(a, b)
	}
	var first, second string
	switch op {
	case '+':
		first, second = "while evaluating the first argument of the addition", "while evaluating the second argument of the addition"
	case '-':
		first, second = "while evaluating the first argument of the subtraction", "while evaluating the second argument of the subtraction"
	default:
		first, second = "while evaluating the first argument of the multiplication", "while evaluating the second argument of the multiplication"
	}
	if a.k == KindFloat || b.k == KindFloat {
		x, err := e.ForceFloat(a, lang.NoPos, first)
		if err != nil {
			return Value{}, err
		}
		y, err := e.ForceFloat(b, lang.NoPos, second)
		if err != nil {
			return Value{}, err
		}
		switch op {
		case '+':
			return Float(x + y), nil
		case '-':
			return Float(x - y), nil
		}
		return Float(x * y), nil
	}
	x, err := e.ForceInt(a, lang.NoPos, first)
	if err != nil {
		return Value{}, err
	}
	y, err := e.ForceInt(b, lang.NoPos, second)
	if err != nil {
		return Value{}, err
	}
	switch op {
	case '+':
		r := x + y
		if (r > x) != (y > 0) {
			return Value{}, Errorf(ErrEval, lang.NoPos, "integer overflow in adding %d + %d", x, y)
		}
		return Int(r), nil
	case '-':
		r := x - y
		if (r < x) != (y > 0) {
			return Value{}, Errorf(ErrEval, lang.NoPos, "integer overflow in subtracting %d - %d", x, y)
		}
		return Int(r), nil
	}
	if x != 0 && y != 0 {
		r := x * y
		if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
			return Value{}, Errorf(ErrEval, lang.NoPos, "integer overflow in multiplying %d * %d", x, y)
		}
		return Int(r), nil
	}
	return Int(0), nil
}

func (e *Eval) divide(a, b Value) (Value, error) {
	const first, second = "while evaluating the first operand of the division", "while evaluating the second operand of the division"
	f2, err := e.ForceFloat(b, lang.NoPos, second)
	if err != nil {
		return Value{}, err
	}
	if f2 == 0 {
		return Value{}, Errorf(ErrEval, lang.NoPos, "division by zero")
	}
	if a.k == KindFloat || b.k == KindFloat {
		f1, err := e.ForceFloat(a, lang.NoPos, first)
		if err != nil {
			return Value{}, err
		}
		return Float(f1 / f2), nil
	}
	x, err := e.ForceInt(a, lang.NoPos, first)
	if err != nil {
		return Value{}, err
	}
	y, err := e.ForceInt(b, lang.NoPos, second)
	if err != nil {
		return Value{}, err
	}
	if x == math.MinInt64 && y == -1 {
		return Value{}, Errorf(ErrEval, lang.NoPos, "integer overflow in dividing %d / %d", x, y)
	}
	return Int(x / y), nil
}

func toFloat(v Value) float64 {
	if v.k == KindInt {
		return float64(v.IntValue())
	}
	return v.FloatValue()
}
