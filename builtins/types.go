package builtins

import (
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

func isKind(name string, ok func(eval.Value) bool) Func {
	return func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
		v := args[0]
		if err := e.ForceAt(&v, pos); err != nil {
			return eval.Value{}, eval.AddTrace(err, pos, "while evaluating the first argument passed to builtins.%s", name)
		}
		return eval.Bool(ok(v)), nil
	}
}

func kindIs(k eval.Kind) func(eval.Value) bool {
	return func(v eval.Value) bool { return v.Kind() == k }
}

var typeBuiltins = []builtin{
	{name: "typeOf", params: []string{"e"}, fn: primTypeOf,
		doc: "Returns the type of e as a string: \"int\", \"bool\", \"string\", \"path\", \"null\", \"set\", \"list\", \"lambda\" or \"float\"."},
	{name: "isAttrs", params: []string{"e"}, fn: isKind("isAttrs", kindIs(eval.KindAttrs)), doc: "Whether e is an attribute set."},
	{name: "isBool", params: []string{"e"}, fn: isKind("isBool", kindIs(eval.KindBool)), doc: "Whether e is a Boolean."},
	{name: "isFloat", params: []string{"e"}, fn: isKind("isFloat", kindIs(eval.KindFloat)), doc: "Whether e is a float."},
	{name: "isInt", params: []string{"e"}, fn: isKind("isInt", kindIs(eval.KindInt)), doc: "Whether e is an integer."},
	{name: "isList", params: []string{"e"}, fn: isKind("isList", kindIs(eval.KindList)), doc: "Whether e is a list."},
	{name: "isNull", global: true, params: []string{"e"}, fn: isKind("isNull", kindIs(eval.KindNull)),
		doc: "Whether e is null. (`e == null` says the same.)"},
	{name: "isPath", params: []string{"e"}, fn: isKind("isPath", kindIs(eval.KindPath)), doc: "Whether e is a path."},
	{name: "isString", params: []string{"e"}, fn: isKind("isString", kindIs(eval.KindString)), doc: "Whether e is a string."},
	{name: "isFunction", params: []string{"e"}, fn: isKind("isFunction", eval.Value.IsFunction),
		doc: "Whether e is a function (a lambda or a builtin, possibly partially applied)."},
}

func primTypeOf(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v := args[0]
	if err := e.ForceAt(&v, pos); err != nil {
		return eval.Value{}, eval.AddTrace(err, pos, "while evaluating the first argument passed to builtins.typeOf")
	}
	return eval.String(v.TypeName()), nil
}
