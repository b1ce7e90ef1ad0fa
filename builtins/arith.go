package builtins

import (
	"math"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

func arith(op byte) Func {
	return func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
		return e.Arith(op, args[0], args[1])
	}
}

var arithBuiltins = []builtin{
	{name: "add", params: []string{"e1", "e2"}, fn: arith('+'), doc: "Returns e1 + e2 (integers or floats)."},
	{name: "sub", params: []string{"e1", "e2"}, fn: arith('-'), doc: "Returns e1 - e2 (integers or floats)."},
	{name: "mul", params: []string{"e1", "e2"}, fn: arith('*'), doc: "Returns e1 * e2 (integers or floats)."},
	{name: "div", params: []string{"e1", "e2"}, fn: arith('/'),
		doc: "Returns e1 / e2: integer division (rounding toward zero) for two integers, float division otherwise. Dividing by zero is an error."},
	{name: "lessThan", params: []string{"e1", "e2"}, fn: primLessThan,
		doc: "Returns e1 < e2 for numbers, strings, paths and lists (compared element by element)."},
	{name: "bitAnd", forcesFirst: true, params: []string{"e1", "e2"}, fn: bitOp("bitAnd", func(a, b int64) int64 { return a & b }), doc: "The bitwise AND of two integers."},
	{name: "bitOr", forcesFirst: true, params: []string{"e1", "e2"}, fn: bitOp("bitOr", func(a, b int64) int64 { return a | b }), doc: "The bitwise OR of two integers."},
	{name: "bitXor", forcesFirst: true, params: []string{"e1", "e2"}, fn: bitOp("bitXor", func(a, b int64) int64 { return a ^ b }), doc: "The bitwise exclusive OR of two integers."},
	{name: "ceil", params: []string{"n"}, fn: rounding("ceil", math.Ceil),
		doc: "Rounds the number n up to the nearest integer; integers are returned as they are."},
	{name: "floor", params: []string{"n"}, fn: rounding("floor", math.Floor),
		doc: "Rounds the number n down to the nearest integer; integers are returned as they are."},
}

func primLessThan(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	lt, err := e.LessThan(args[0], args[1], pos)
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Bool(lt), nil
}

func bitOp(name string, f func(a, b int64) int64) Func {
	return func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
		a, err := e.ForceInt(args[0], lang.NoPos, argCtx(0, name))
		if err != nil {
			return eval.Value{}, err
		}
		b, err := e.ForceInt(args[1], lang.NoPos, argCtx(1, name))
		if err != nil {
			return eval.Value{}, err
		}
		return eval.Int(f(a, b)), nil
	}
}

func rounding(name string, f func(float64) float64) Func {
	return func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
		v := args[0]
		if err := e.ForceAt(&v, pos); err != nil {
			return eval.Value{}, err
		}
		if v.Kind() == eval.KindInt {
			return v, nil
		}
		x, err := e.ForceFloat(v, lang.NoPos, "while evaluating the first argument passed to builtins."+name)
		if err != nil {
			return eval.Value{}, err
		}
		r := f(x)
		if r >= 9223372036854775807.0 || r < -9223372036854775808.0 || math.IsNaN(r) {
			return eval.Value{}, eval.Errorf(eval.ErrEval, pos, "NaN or infinite float %s cannot be converted to an integer", eval.FormatFloat(r))
		}
		return eval.Int(int64(r)), nil
	}
}
