package builtins

import (
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// derivationSets makes the result of `derivation args` for derivation.nix,
// which passes it the argument set and its `outputs` (["out"] when
// absent). For each output name (the first of duplicates counts) it makes
// the set
//
//	args // listToAttrs [ { name = OUTPUT; value = <its set>; } … ]
//	     // { all = [ <set of each output> … ]; drvAttrs = args; }
//	     // { outPath = getAttr OUTPUT strict; drvPath = strict.drvPath;
//	          type = "derivation"; outputName = OUTPUT; }
//
// with strict = derivationStrict args, shared and unevaluated, and returns
// the set of the first output. Written in the language this took three
// merges of the argument set and a dozen thunks per derivation; here it is
// one merge per output.
var derivationSets = &eval.PrimOp{Name: "derivation", Arity: 2, Params: []string{"args", "outputs"}, Fn: primDerivationSets, NoTrace: true}

var (
	drvGetAttrOp = &eval.PrimOp{Name: "getAttr", Arity: 2, Params: []string{"s", "set"}, Fn: primGetAttr, NoTrace: true}
	// drvPathOp and outPathOp are getAttr "drvPath" and getAttr "out": a
	// one-argument application is 32 bytes smaller than a two-argument one.
	drvPathOp   = getAttrOf(eval.String("drvPath"))
	outPathOp   = getAttrOf(eval.String("out"))
	drvStrictOp = &eval.PrimOp{Name: "derivationStrict", Arity: 1, Params: []string{"attrs"}, Fn: primDerivationStrict}

	symDrvAll        = eval.Intern("all")
	symDrvAttrs      = eval.Intern("drvAttrs")
	symDrvPath       = eval.Intern("drvPath")
	symDrvOutPath    = eval.Intern("outPath")
	symDrvType       = eval.Intern("type")
	symDrvOutputName = eval.Intern("outputName")
	strDerivation    = eval.String("derivation")
)

// getAttrOf is getAttr name as a one-argument builtin.
func getAttrOf(name eval.Value) *eval.PrimOp {
	return &eval.PrimOp{Name: "getAttr", Arity: 1, Params: []string{"set"}, NoTrace: true,
		Fn: func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
			return primGetAttr(e, []eval.Value{name, args[0]}, pos)
		}}
}

func primDerivationSets(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	drvAttrs := args[0]
	attrs, err := e.ForceAttrs(drvAttrs, lang.NoPos, "while evaluating the argument passed to builtins.derivation")
	if err != nil {
		return eval.Value{}, err
	}
	outputs, err := e.ForceList(args[1], lang.NoPos, "while evaluating the `outputs` attribute passed to builtins.derivation")
	if err != nil {
		return eval.Value{}, err
	}
	if len(outputs) == 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "'builtins.head' called on an empty list")
	}
	// The distinct names, in order, and for each element of outputs the
	// index of its name among them.
	var namesBuf [4]string
	names := namesBuf[:0]
	var symsBuf [4]eval.Sym
	syms := symsBuf[:0]
	var firstBuf [4]int
	first := firstBuf[:0]
	for i := range outputs {
		name, err := e.ForceStringNoCtx(outputs[i], lang.NoPos, "while evaluating an output name passed to builtins.derivation")
		if err != nil {
			return eval.Value{}, err
		}
		j := 0
		for j < len(names) && names[j] != name {
			j++
		}
		if j == len(names) {
			names = append(names, name)
			syms = append(syms, internOutput(name))
		}
		first = append(first, j)
	}

	strict := eval.NewApp(eval.PrimOpValue(drvStrictOp), drvAttrs)
	drvPath := eval.NewApp(eval.PrimOpValue(drvPathOp), strict)
	all := make([]eval.Value, len(outputs))
	sets := make([]eval.Attrs, len(names))
	for k, name := range names {
		nameValue := eval.String(name)
		outPath := eval.NewApp(eval.PrimOpValue(outPathOp), strict)
		if name != "out" {
			outPath = eval.NewApp2(eval.PrimOpValue(drvGetAttrOp), nameValue, strict)
		}
		// Highest precedence first: SortAttrs keeps the first of a name.
		var buf [10]eval.Attr
		overlay := append(buf[:0],
			eval.NewAttr(symDrvOutPath, outPath, lang.NoPos),
			eval.NewAttr(symDrvPath, drvPath, lang.NoPos),
			eval.NewAttr(symDrvType, strDerivation, lang.NoPos),
			eval.NewAttr(symDrvOutputName, nameValue, lang.NoPos),
			eval.NewAttr(symDrvAll, eval.List(all), lang.NoPos),
			eval.NewAttr(symDrvAttrs, drvAttrs, lang.NoPos))
		for _, sym := range syms {
			overlay = append(overlay, eval.NewAttr(sym, eval.Null, lang.NoPos)) // the set of that output, below
		}
		sets[k] = eval.MergeAttrs(attrs, eval.SortAttrs(overlay))
	}
	for k := range sets {
		for j, sym := range syms {
			switch sym {
			case symDrvOutPath, symDrvPath, symDrvType, symDrvOutputName, symDrvAll, symDrvAttrs:
				// Shadowed by the attribute of that name.
			default:
				sets[k].Get(sym).Value = eval.AttrsValue(sets[j])
			}
		}
	}
	for i, j := range first {
		all[i] = eval.AttrsValue(sets[j])
	}
	return eval.AttrsValue(sets[first[0]]), nil
}
