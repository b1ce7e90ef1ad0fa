package builtins

import (
	"cmp"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"slices"
	"strings"
)

// A note on positions: Nix hands its builtins no position of their own
// (the call site shows up only in the "while calling the 'x' builtin"
// frame the evaluator adds), so the errors and frames below carry
// lang.NoPos, and functions are called back without a call site.
const noPos = lang.NoPos

var listBuiltins = []builtin{
	{name: "length", forcesFirst: true, params: []string{"list"}, fn: primLength,
		doc: "Returns the number of elements of list, in constant time.\n\n    builtins.length [ 1 2 3 ]  # 3"},
	{name: "head", forcesFirst: true, params: []string{"list"}, fn: primHead,
		doc: "Returns the first element of list, evaluated. It is an error if list is empty; compare with `[ ]` first when it may be."},
	{name: "tail", forcesFirst: true, params: []string{"list"}, fn: primTail,
		doc: "Returns list without its first element; it is an error if list is empty. It copies the rest of the list, so walking a list with repeated tail takes quadratic time: prefer map, filter or foldl'."},
	{name: "elemAt", forcesFirst: true, firstArg: 1, params: []string{"xs", "n"}, fn: primElemAt,
		doc: "Returns the element of xs at index n, counting from 0. An index outside the list is an error.\n\n    builtins.elemAt [ \"a\" \"b\" ] 1  # \"b\""},
	{name: "elem", forcesFirst: true, firstArg: 1, params: []string{"x", "xs"}, fn: primElem,
		doc: "Whether some element of the list xs is equal (as with ==) to x."},
	{name: "filter", forcesFirst: true, firstArg: 1, params: []string{"f", "list"}, fn: primFilter,
		doc: "Keeps the elements x of list for which f x is true, in their order.\n\n    builtins.filter (x: x > 1) [ 3 1 2 ]  # [ 3 2 ]"},
	{name: "map", forcesFirst: true, firstArg: 1, global: true, params: []string{"f", "list"}, fn: primMap,
		doc: "Applies f to every element of list and returns the list of results. The applications are lazy: f x is computed when that element is used.\n\n    map (x: x * 2) [ 1 2 3 ]  # [ 2 4 6 ]"},
	{name: "concatLists", forcesFirst: true, params: []string{"lists"}, fn: primConcatLists,
		doc: "Joins a list of lists into one list.\n\n    builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] ]  # [ 1 2 3 ]"},
	{name: "concatMap", params: []string{"f", "list"}, fn: primConcatMap,
		doc: "Calls f, which must return a list, on every element of list and joins the results: the same as `concatLists (map f list)`, done in one pass."},
	{name: "foldl'", params: []string{"op", "nul", "list"}, fn: primFoldlStrict,
		doc: "Folds list from the left: `op (… (op (op nul x0) x1) …) xn`. Each intermediate result is evaluated as soon as it is computed, which keeps long folds from building up deep chains of unevaluated thunks. nul and the elements are passed unevaluated.\n\n    builtins.foldl' (acc: x: acc + x) 0 [ 1 2 3 ]  # 6"},
	{name: "genList", forcesFirst: true, firstArg: 1, params: []string{"generator", "length"}, fn: primGenList,
		doc: "Makes a list of the given length whose element i is generator i (lazily), for i from 0.\n\n    builtins.genList (i: i * i) 4  # [ 0 1 4 9 ]"},
	{name: "sort", forcesFirst: true, firstArg: 1, params: []string{"comparator", "list"}, fn: primSort,
		doc: "Returns list sorted by comparator, a function of two elements that is true when the first must come before the second (builtins.lessThan sorts in increasing order). The sort is stable: elements the comparator does not order keep their relative order. A comparator that is not a consistent ordering gives some reordering of the list, never an error of its own.\n\n    builtins.sort builtins.lessThan [ 3 1 2 ]  # [ 1 2 3 ]"},
	{name: "partition", params: []string{"pred", "list"}, fn: primPartition,
		doc: "Splits list by pred into { right = elements for which pred is true; wrong = the others; }, both in list order.\n\n    builtins.partition (x: x > 2) [ 1 3 2 4 ]  # { right = [ 3 4 ]; wrong = [ 1 2 ]; }"},
	{name: "groupBy", params: []string{"f", "list"}, fn: primGroupBy,
		doc: "Groups the elements of list by the string f returns for each: the result maps every such string to the list of elements (in list order) that gave it.\n\n    builtins.groupBy (s: builtins.substring 0 1 s) [ \"ab\" \"b\" \"ac\" ]  # { a = [ \"ab\" \"ac\" ]; b = [ \"b\" ]; }"},
	{name: "all", params: []string{"pred", "list"}, fn: anyOrAll(false),
		doc: "Whether pred returns true for every element of list (true for an empty list). Stops at the first false."},
	{name: "any", params: []string{"pred", "list"}, fn: anyOrAll(true),
		doc: "Whether pred returns true for at least one element of list (false for an empty list). Stops at the first true."},
}

// call1 and call2 call a function given as an argument to a builtin.
func call1(e *eval.Eval, f, x eval.Value) (eval.Value, error) {
	return e.Call1(f, x, noPos)
}

func call2(e *eval.Eval, f, x, y eval.Value) (eval.Value, error) {
	return e.Call2(f, x, y, noPos)
}

// forceListIn forces the list element *v in place and checks it is a list.
func forceListIn(e *eval.Eval, v *eval.Value, ctx string) ([]eval.Value, error) {
	if err := e.ForceAt(v, noPos); err != nil {
		return nil, err
	}
	return e.ForceList(*v, noPos, ctx)
}

// forced returns v forced, for a list argument that was just checked with
// ForceList (the check forced a copy; this returns the value itself).
func forced(e *eval.Eval, v eval.Value) eval.Value {
	r, _ := e.ForceValue(v)
	return r
}

func primLength(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[0], noPos, argCtx(0, "length"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Int(int64(len(xs))), nil
}

func primHead(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[0], noPos, "while evaluating the first argument passed to 'builtins.head'")
	if err != nil {
		return eval.Value{}, err
	}
	if len(xs) == 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, noPos, "'builtins.head' called on an empty list")
	}
	if err := e.ForceAt(&xs[0], noPos); err != nil {
		return eval.Value{}, err
	}
	return xs[0], nil
}

func primTail(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[0], noPos, "while evaluating the first argument passed to 'builtins.tail'")
	if err != nil {
		return eval.Value{}, err
	}
	if len(xs) == 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, noPos, "'builtins.tail' called on an empty list")
	}
	// A fresh list, as in Nix: sharing the backing array would make two
	// tails of one list the same object (printed as «repeated»).
	return eval.List(append([]eval.Value(nil), xs[1:]...)), nil
}

func primElemAt(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	n, err := e.ForceInt(args[1], noPos, "while evaluating the second argument passed to 'builtins.elemAt'")
	if err != nil {
		return eval.Value{}, err
	}
	xs, err := e.ForceList(args[0], noPos, "while evaluating the first argument passed to 'builtins.elemAt'")
	if err != nil {
		return eval.Value{}, err
	}
	if n < 0 || uint64(n) >= uint64(len(xs)) {
		return eval.Value{}, eval.Errorf(eval.ErrEval, noPos, "'builtins.elemAt' called with index %d on a list of size %d", n, len(xs))
	}
	if err := e.ForceAt(&xs[n], noPos); err != nil {
		return eval.Value{}, err
	}
	return xs[n], nil
}

func primElem(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "elem"))
	if err != nil {
		return eval.Value{}, err
	}
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		eq, err := e.Equal(args[0], xs[i], noPos)
		if err != nil {
			return eval.Value{}, err
		}
		if eq {
			return eval.True, nil
		}
	}
	return eval.False, nil
}

func primFilter(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "filter"))
	if err != nil {
		return eval.Value{}, err
	}
	if len(xs) == 0 {
		return forced(e, args[1]), nil
	}
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "filter"))
	if err != nil {
		return eval.Value{}, err
	}
	// out stays nil while every element is kept: then the result is the
	// list itself, as in Nix.
	var out []eval.Value
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		r, err := call1(e, f, xs[i])
		if err != nil {
			return eval.Value{}, err
		}
		keep, err := e.ForceBool(r, noPos, "while evaluating the return value of the filtering function passed to builtins.filter")
		if err != nil {
			return eval.Value{}, err
		}
		switch {
		case !keep && out == nil:
			out = make([]eval.Value, i, len(xs)-1)
			copy(out, xs[:i])
		case keep && out != nil:
			out = append(out, xs[i])
		}
	}
	if out == nil {
		return forced(e, args[1]), nil
	}
	return eval.List(out), nil
}

func primMap(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "map"))
	if err != nil {
		return eval.Value{}, err
	}
	if len(xs) == 0 {
		return forced(e, args[1]), nil
	}
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "map"))
	if err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, len(xs))
	eval.NewApps(out, f, xs)
	return eval.List(out), nil
}

func primConcatLists(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	lists, err := e.ForceList(args[0], noPos, argCtx(0, "concatLists"))
	if err != nil {
		return eval.Value{}, err
	}
	return concatLists(e, lists, "while evaluating a value of the list passed to builtins.concatLists")
}

// concatLists joins lists (forcing each in place). As in Nix, when only
// one of them is non-empty the result is that list itself.
func concatLists(e *eval.Eval, lists []eval.Value, ctx string) (eval.Value, error) {
	n, nonEmpty := 0, -1
	for i := range lists {
		eval.PrefetchAhead(lists, i)
		xs, err := forceListIn(e, &lists[i], ctx)
		if err != nil {
			return eval.Value{}, err
		}
		if len(xs) > 0 {
			n += len(xs)
			nonEmpty = i
		}
	}
	if nonEmpty >= 0 && n == lists[nonEmpty].Len() {
		return lists[nonEmpty], nil
	}
	if err := e.CheckListSize(int64(n), noPos); err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, 0, n)
	for i := range lists {
		out = append(out, lists[i].ListValue()...)
	}
	return eval.List(out), nil
}

func primConcatMap(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "concatMap"))
	if err != nil {
		return eval.Value{}, err
	}
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "concatMap"))
	if err != nil {
		return eval.Value{}, err
	}
	// Nix reports a result that is not a list at the function's
	// definition. (CallFunction returns results evaluated.)
	resPos := noPos
	if f.Kind() == eval.KindLambda {
		resPos = f.Closure().Pos()
	}
	const ctx = "while evaluating the return value of the function passed to builtins.concatMap"
	results := make([]eval.Value, len(xs))
	n := 0
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		r, err := call1(e, f, xs[i])
		if err != nil {
			return eval.Value{}, err
		}
		if r.Kind() != eval.KindList {
			// The frame has the position, the message none.
			err := eval.TypeErrorf(noPos, "expected a list but found %s: %s", r.ShowType(), e.ShowValueShort(r))
			return eval.Value{}, eval.AddTrace(err, resPos, ctx)
		}
		results[i] = r
		n += r.Len()
	}
	if err := e.CheckListSize(int64(n), noPos); err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, 0, n)
	for _, r := range results {
		out = append(out, r.ListValue()...)
	}
	return eval.List(out), nil
}

func primFoldlStrict(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	op, err := e.ForceFunction(args[0], noPos, "while evaluating the first argument passed to builtins.foldlStrict")
	if err != nil {
		return eval.Value{}, err
	}
	xs, err := e.ForceList(args[2], noPos, "while evaluating the third argument passed to builtins.foldlStrict")
	if err != nil {
		return eval.Value{}, err
	}
	acc := args[1]
	if len(xs) == 0 {
		return e.ForceValue(acc)
	}
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		// CallFunction returns its result evaluated: every step is strict.
		acc, err = call2(e, op, acc, xs[i])
		if err != nil {
			return eval.Value{}, err
		}
	}
	return acc, nil
}

func primGenList(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	n, err := e.ForceInt(args[1], noPos, argCtx(1, "genList"))
	if err != nil {
		return eval.Value{}, err
	}
	if n < 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, noPos, "cannot create list of size %d", n)
	}
	if err := e.CheckListSize(n, noPos); err != nil {
		return eval.Value{}, err
	}
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "genList"))
	if err != nil {
		return eval.Value{}, err
	}
	if n == 0 {
		return eval.List(nil), nil
	}
	out := make([]eval.Value, n)
	eval.NewIndexedApps(out, f)
	return eval.List(out), nil
}

func anyOrAll(any bool) Func {
	name := "all"
	if any {
		name = "any"
	}
	ctx := "while evaluating the return value of the function passed to builtins." + name
	return func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
		f, err := e.ForceFunction(args[0], noPos, argCtx(0, name))
		if err != nil {
			return eval.Value{}, err
		}
		xs, err := e.ForceList(args[1], noPos, argCtx(1, name))
		if err != nil {
			return eval.Value{}, err
		}
		for i := range xs {
			eval.PrefetchAhead(xs, i)
			r, err := call1(e, f, xs[i])
			if err != nil {
				return eval.Value{}, err
			}
			b, err := e.ForceBool(r, noPos, ctx)
			if err != nil {
				return eval.Value{}, err
			}
			if b == any {
				return eval.Bool(any), nil
			}
		}
		return eval.Bool(!any), nil
	}
}

var (
	symRight = eval.Intern("right")
	symWrong = eval.Intern("wrong")
)

func primPartition(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "partition"))
	if err != nil {
		return eval.Value{}, err
	}
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "partition"))
	if err != nil {
		return eval.Value{}, err
	}
	// One array holds both halves: right grows from the front, wrong from
	// the back (reversed at the end).
	all := make([]eval.Value, len(xs))
	nr, nw := 0, 0
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		if err := e.ForceAt(&xs[i], noPos); err != nil {
			return eval.Value{}, err
		}
		r, err := call1(e, f, xs[i])
		if err != nil {
			return eval.Value{}, err
		}
		ok, err := e.ForceBool(r, noPos, "while evaluating the return value of the partition function passed to builtins.partition")
		if err != nil {
			return eval.Value{}, err
		}
		if ok {
			all[nr] = xs[i]
			nr++
		} else {
			nw++
			all[len(all)-nw] = xs[i]
		}
	}
	right, wrong := all[:nr:nr], all[nr:]
	for i, j := 0, len(wrong)-1; i < j; i, j = i+1, j-1 {
		wrong[i], wrong[j] = wrong[j], wrong[i]
	}
	b := eval.NewAttrsBuilder(2)
	b.Add(symRight, eval.List(right))
	b.Add(symWrong, eval.List(wrong))
	return b.Value(), nil
}

func primGroupBy(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "groupBy"))
	if err != nil {
		return eval.Value{}, err
	}
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "groupBy"))
	if err != nil {
		return eval.Value{}, err
	}
	// First the group of every element, then one array for all groups.
	type group struct {
		name       eval.Sym
		start, len int
	}
	var groups []group
	index := map[eval.Sym]int{}
	of := make([]int32, len(xs))
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		r, err := call1(e, f, xs[i])
		if err != nil {
			return eval.Value{}, err
		}
		name, err := e.ForceStringNoCtx(r, noPos, "while evaluating the return value of the grouping function passed to builtins.groupBy")
		if err != nil {
			return eval.Value{}, err
		}
		sym := eval.Intern(name)
		g, ok := index[sym]
		if !ok {
			g = len(groups)
			index[sym] = g
			groups = append(groups, group{name: sym})
		}
		groups[g].len++
		of[i] = int32(g)
	}
	start := 0
	for g := range groups {
		groups[g].start = start
		start += groups[g].len
		groups[g].len = 0
	}
	elems := make([]eval.Value, len(xs))
	for i, g := range of {
		gr := &groups[g]
		elems[gr.start+gr.len] = xs[i]
		gr.len++
	}
	attrs := make(eval.Attrs, len(groups))
	for g, gr := range groups {
		attrs[g] = eval.NewAttr(gr.name, eval.List(elems[gr.start:gr.start+gr.len:gr.start+gr.len]), noPos)
	}
	return eval.AttrsValue(eval.SortAttrs(attrs)), nil
}

// primSort sorts with peeksort, the stable natural merge sort Nix uses, so
// that the comparator sees the same pairs in the same order as in Nix
// (which shows in traces and in which error comes first).
func primSort(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	xs, err := e.ForceList(args[1], noPos, argCtx(1, "sort"))
	if err != nil {
		return eval.Value{}, err
	}
	if len(xs) == 0 {
		return forced(e, args[1]), nil
	}
	f, err := e.ForceFunction(args[0], noPos, argCtx(0, "sort"))
	if err != nil {
		return eval.Value{}, err
	}
	out := make([]eval.Value, len(xs))
	for i := range xs {
		eval.PrefetchAhead(xs, i)
		if err := e.ForceAt(&xs[i], noPos); err != nil {
			return eval.Value{}, err
		}
		out[i] = xs[i]
	}
	if f.Kind() == eval.KindPrimOp && f.PrimOpValue().Name == "lessThan" && sortPlain(out) {
		return eval.List(out), nil
	}
	s := sorter{}
	if f.Kind() == eval.KindPrimOp && f.PrimOpValue().Name == "lessThan" {
		// Nix compares directly, without calling the builtin.
		s.less = func(a, b eval.Value) (bool, error) {
			lt, err := e.LessThan(a, b, noPos)
			if err != nil {
				return false, eval.AddTrace(err, noPos, "while evaluating the ordering function passed to builtins.sort")
			}
			return lt, nil
		}
	} else {
		s.less = func(a, b eval.Value) (bool, error) {
			r, err := call2(e, f, a, b)
			if err != nil {
				return false, err
			}
			return e.ForceBool(r, noPos, "while evaluating the return value of the sorting function passed to builtins.sort")
		}
	}
	s.sort(out)
	if s.err != nil {
		return eval.Value{}, s.err
	}
	return eval.List(out), nil
}

// sortPlain sorts xs with < when all elements are integers, or all are
// strings without context: a total order that cannot fail, where equal
// elements are indistinguishable, so any sort gives Nix's result. It
// reports false (leaving xs alone) otherwise.
func sortPlain(xs []eval.Value) bool {
	k := xs[0].Kind()
	if k != eval.KindInt && k != eval.KindString {
		return false
	}
	for _, x := range xs {
		if x.Kind() != k || x.HasContext() {
			return false
		}
	}
	if k == eval.KindInt {
		slices.SortFunc(xs, func(a, b eval.Value) int { return cmp.Compare(a.IntValue(), b.IntValue()) })
	} else {
		slices.SortFunc(xs, func(a, b eval.Value) int { return strings.Compare(a.Str(), b.Str()) })
	}
	return true
}
