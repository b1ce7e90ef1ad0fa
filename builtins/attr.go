package builtins

import (
	"slices"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

var attrBuiltins = []builtin{
	{name: "attrNames", forcesFirst: true, params: []string{"set"}, fn: primAttrNames,
		doc: "Returns the names of the attributes of set as a list of strings, sorted alphabetically (by bytes).\n\n    builtins.attrNames { b = 1; a = 2; }  # [ \"a\" \"b\" ]"},
	{name: "attrValues", forcesFirst: true, params: []string{"set"}, fn: primAttrValues,
		doc: "Returns the values of the attributes of set as a list, in the alphabetical order of their names (the order of attrNames). The values are not evaluated."},
	{name: "getAttr", forcesFirst: true, params: []string{"s", "set"}, fn: primGetAttr,
		doc: "Returns the attribute named s of set: `getAttr \"x\" set` is `set.x`, with a name computed at run time. A missing attribute is an error."},
	{name: "hasAttr", forcesFirst: true, params: []string{"s", "set"}, fn: primHasAttr,
		doc: "Whether set has an attribute named s: `hasAttr \"x\" set` is `set ? x`, with a name computed at run time."},
	{name: "removeAttrs", forcesFirst: true, global: true, params: []string{"set", "list"}, fn: primRemoveAttrs,
		doc: "Returns set without the attributes whose names are in list (names that set lacks are ignored).\n\n    removeAttrs { a = 1; b = 2; } [ \"a\" \"c\" ]  # { b = 2; }"},
	{name: "intersectAttrs", forcesFirst: true, params: []string{"e1", "e2"}, fn: primIntersectAttrs,
		doc: "Returns the attributes of e2 whose names are also attributes of e1 (the values come from e2). It takes time proportional to the smaller set times the logarithm of the larger.\n\n    builtins.intersectAttrs { a = 0; } { a = 1; b = 2; }  # { a = 1; }"},
	{name: "catAttrs", params: []string{"attr", "list"}, fn: primCatAttrs,
		doc: "Collects the values of the attribute named attr of the sets in list, in list order; sets without it are skipped.\n\n    builtins.catAttrs \"a\" [ { a = 1; } { } { a = 2; } ]  # [ 1 2 ]"},
	{name: "listToAttrs", forcesFirst: true, params: []string{"e"}, fn: primListToAttrs,
		doc: "Makes a set from a list of { name = string; value = v; } sets. When a name occurs more than once the first one counts. The values stay unevaluated.\n\n    builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; value = 2; } ]  # { a = 1; }"},
	{name: "mapAttrs", forcesFirst: true, firstArg: 1, params: []string{"f", "attrset"}, fn: primMapAttrs,
		doc: "Returns a set with the names of attrset where each value v of attribute n becomes f n v, computed lazily.\n\n    builtins.mapAttrs (n: v: v + 1) { a = 1; b = 2; }  # { a = 2; b = 3; }"},
	{name: "zipAttrsWith", params: []string{"f", "list"}, fn: primZipAttrsWith,
		doc: "Merges a list of sets: the result has every attribute name found in them, and the value for name n is f n vs, vs being the list of the values of n in the sets that have it (in list order). The calls are lazy.\n\n    builtins.zipAttrsWith (n: vs: vs) [ { a = 1; } { a = 2; b = 3; } ]  # { a = [ 1 2 ]; b = [ 3 ]; }"},
	{name: "functionArgs", params: []string{"f"}, fn: primFunctionArgs,
		doc: "Describes the parameters of a function that takes a set: the result maps each named parameter to whether it has a default value. It is { } for a function with a plain parameter (x: …) and for builtins.\n\n    builtins.functionArgs ({ a, b ? 1, ... }: a)  # { a = false; b = true; }"},
	{name: "genericClosure", params: []string{"attrset"}, fn: primGenericClosure,
		doc: "Computes a closure: attrset has startSet, a list of sets, and operator, a function from such a set to a list of further sets. Every set must have a `key` attribute (a number, string, path or list; keys are compared with < and ==). Starting from startSet, operator is called on each set whose key has not been seen before, and the new sets are processed in turn. Returns the sets with distinct keys, in the order they were found.\n\n    builtins.genericClosure {\n      startSet = [ { key = 1; } ];\n      operator = x: if x.key < 4 then [ { key = x.key + 1; } ] else [ ];\n    }  # [ { key = 1; } { key = 2; } { key = 3; } { key = 4; } ]"},
}

func primAttrNames(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], noPos, "while evaluating the argument passed to builtins.attrNames")
	if err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, len(attrs))
	for i, a := range attrs.Lexicographic() {
		out[i] = eval.SymString(a.Name)
	}
	return eval.List(out), nil
}

func primAttrValues(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], noPos, "while evaluating the argument passed to builtins.attrValues")
	if err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, len(attrs))
	for i, a := range attrs.Lexicographic() {
		out[i] = a.Value
	}
	return eval.List(out), nil
}

// missingAttr is Nix's error for an attribute a builtin requires.
func missingAttr(name, ctx string) error {
	err := eval.TypeErrorf(noPos, "attribute '%s' missing", name)
	return eval.AddTrace(err, noPos, "%s", ctx)
}

func primGetAttr(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	sym, name, err := e.ForceAttrName(args[0], noPos, argCtx(0, "getAttr"))
	if err != nil {
		return eval.Value{}, err
	}
	attrs, err := e.ForceAttrs(args[1], noPos, argCtx(1, "getAttr"))
	if err != nil {
		return eval.Value{}, err
	}
	a := attrs.Get(sym)
	if a == nil {
		return eval.Value{}, missingAttr(name, "in the attribute set under consideration")
	}
	if err := e.ForceAt(&a.Value, noPos); err != nil {
		return eval.Value{}, err
	}
	return a.Value, nil
}

func primHasAttr(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	sym, _, err := e.ForceAttrName(args[0], noPos, argCtx(0, "hasAttr"))
	if err != nil {
		return eval.Value{}, err
	}
	attrs, err := e.ForceAttrs(args[1], noPos, argCtx(1, "hasAttr"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Bool(attrs.Get(sym) != nil), nil
}

func primRemoveAttrs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], noPos, argCtx(0, "removeAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	names, err := e.ForceList(args[1], noPos, argCtx(1, "removeAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	drop := make([]eval.Sym, 0, len(names))
	for i := range names {
		s, err := e.ForceStringNoCtx(names[i], noPos, "while evaluating the values of the second argument passed to builtins.removeAttrs")
		if err != nil {
			return eval.Value{}, err
		}
		drop = append(drop, eval.Intern(s))
	}
	slices.Sort(drop)
	// Both are sorted by symbol: one merge pass. The result is always a
	// new set, as in Nix.
	out := make(eval.Attrs, 0, len(attrs))
	k := 0
	for _, a := range attrs {
		for k < len(drop) && drop[k] < a.Name {
			k++
		}
		if k < len(drop) && drop[k] == a.Name {
			continue
		}
		out = append(out, a)
	}
	return eval.AttrsValue(out), nil
}

func primIntersectAttrs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	left, err := e.ForceAttrs(args[0], noPos, argCtx(0, "intersectAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	right, err := e.ForceAttrs(args[1], noPos, argCtx(1, "intersectAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	// Walk the smaller set and look names up in the larger; the result
	// comes out sorted because the walk is in symbol order.
	out := make(eval.Attrs, 0, min(len(left), len(right)))
	if len(left) < len(right) {
		for i := range left {
			if r := right.Get(left[i].Name); r != nil {
				out = append(out, *r)
			}
		}
	} else {
		for i := range right {
			if left.Get(right[i].Name) != nil {
				out = append(out, right[i])
			}
		}
	}
	return eval.AttrsValue(out), nil
}

func primCatAttrs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], noPos, argCtx(0, "catAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	sym := eval.Intern(name)
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "catAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	var out []eval.Value
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		if err := e.ForceAt(&xs[i], noPos); err != nil {
			return eval.Value{}, err
		}
		attrs, err := e.ForceAttrs(xs[i], noPos, "while evaluating an element in the list passed as second argument to builtins.catAttrs")
		if err != nil {
			return eval.Value{}, err
		}
		if a := attrs.Get(sym); a != nil {
			if out == nil {
				out = make([]eval.Value, 0, len(xs)-i)
			}
			out = append(out, a.Value)
		}
	}
	return eval.List(out), nil
}

var (
	symName  = eval.Intern("name")
	symValue = eval.Intern("value")
)

func primListToAttrs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[0], noPos, "while evaluating the argument passed to builtins.listToAttrs")
	if err != nil {
		return eval.Value{}, err
	}
	const pair = "in a {name=...; value=...;} pair"
	// First every name (in list order, as Nix checks them), with the
	// element set standing in for the value...
	out := make(eval.Attrs, len(xs))
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		if err := e.ForceAt(&xs[i], noPos); err != nil {
			return eval.Value{}, err
		}
		attrs, err := e.ForceAttrs(xs[i], noPos, "while evaluating an element of the list passed to builtins.listToAttrs")
		if err != nil {
			return eval.Value{}, err
		}
		n := attrs.Get(symName)
		if n == nil {
			return eval.Value{}, missingAttr("name", pair)
		}
		sym, _, err := e.ForceAttrName(n.Value, n.Pos(), "while evaluating the `name` attribute of an element of the list passed to builtins.listToAttrs")
		if err != nil {
			return eval.Value{}, err
		}
		out[i] = eval.NewAttr(sym, xs[i], noPos)
	}
	// ... then, for the first occurrence of each name, its value.
	out = eval.SortAttrs(out)
	for i := range out {
		v := out[i].Value.AttrsValue().Get(symValue)
		if v == nil {
			return eval.Value{}, missingAttr("value", pair)
		}
		out[i] = eval.NewAttr(out[i].Name, v.Value, v.Pos())
	}
	return eval.AttrsValue(out), nil
}

func primMapAttrs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[1], noPos, argCtx(1, "mapAttrs"))
	if err != nil {
		return eval.Value{}, err
	}
	// f is not forced: Nix applies it lazily, per attribute.
	f := args[0]
	out := make(eval.Attrs, len(attrs))
	for i := range attrs {
		name := eval.SymString(attrs[i].Name)
		out[i] = eval.NewAttr(attrs[i].Name, eval.NewApp2(f, name, attrs[i].Value), noPos)
	}
	return eval.AttrsValue(out), nil
}

func primZipAttrsWith(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "zipAttrsWith"))
	if err != nil {
		return eval.Value{}, err
	}
	sets, err := e.ForceList(args[1], noPos, argCtx(1, "zipAttrsWith"))
	if err != nil {
		return eval.Value{}, err
	}
	// Count the values of each name, then give every name its slice of
	// one shared array and fill the slices in list order.
	type item struct {
		name       eval.Sym
		start, len int
	}
	var items []item
	index := map[eval.Sym]int{}
	total := 0
	for i := range sets {
		eval.PrefetchAhead(sets, i)
		if err := e.ForceAt(&sets[i], noPos); err != nil {
			return eval.Value{}, err
		}
		attrs, err := e.ForceAttrs(sets[i], noPos, "while evaluating a value of the list passed as second argument to builtins.zipAttrsWith")
		if err != nil {
			return eval.Value{}, err
		}
		for _, a := range attrs {
			k, ok := index[a.Name]
			if !ok {
				k = len(items)
				index[a.Name] = k
				items = append(items, item{name: a.Name})
			}
			items[k].len++
		}
		total += len(attrs)
	}
	start := 0
	for k := range items {
		items[k].start = start
		start += items[k].len
		items[k].len = 0
	}
	vals := make([]eval.Value, total)
	for i := range sets {
		for _, a := range sets[i].AttrsValue() {
			it := &items[index[a.Name]]
			vals[it.start+it.len] = a.Value
			it.len++
		}
	}
	out := make(eval.Attrs, len(items))
	for k, it := range items {
		list := eval.List(vals[it.start : it.start+it.len : it.start+it.len])
		out[k] = eval.NewAttr(it.name, eval.NewApp2(f, eval.SymString(it.name), list), noPos)
	}
	return eval.AttrsValue(eval.SortAttrs(out)), nil
}

func primFunctionArgs(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	f, err := e.ForceValue(args[0])
	if err != nil {
		return eval.Value{}, err
	}
	switch f.Kind() {
	case eval.KindPrimOp, eval.KindPrimOpApp:
		return eval.AttrsValue(nil), nil
	case eval.KindLambda:
	default:
		return eval.Value{}, eval.TypeErrorf(noPos, "'functionArgs' requires a function")
	}
	n := f.Closure().Node()
	if !n.HasFormals {
		return eval.AttrsValue(nil), nil
	}
	b := eval.NewAttrsBuilder(len(n.Formals))
	for _, p := range n.Formals {
		b.AddPos(eval.Intern(p.Name), eval.Bool(p.Default != nil), p.Pos)
	}
	return b.Value(), nil
}
