package builtins

import (
	"sort"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

// String contexts record which store paths a string refers to. Each
// element is one of (see eval.Context):
//
//	/nix/store/…          the path itself ("path = true" in getContext)
//	=/nix/store/….drv     a derivation and everything it needs ("allOutputs")
//	!out!/nix/store/….drv an output of a derivation ("outputs")

var contextBuiltins = []builtin{
	{name: "getContext", params: []string{"s"}, fn: primGetContext,
		doc: "Returns the string context of s as a set keyed by store path. Each value has `path = true` if the path itself is referenced, " +
			"`allOutputs = true` if a derivation is referenced with everything it needs, and `outputs` listing the outputs of a derivation that are referenced."},
	{name: "hasContext", params: []string{"s"}, fn: primHasContext,
		doc: "Whether the string s refers to any store path, that is, has a non-empty context."},
	{name: "appendContext", params: []string{"s", "ctx"}, fn: primAppendContext,
		doc: "Returns s with the references described by ctx added to its context. ctx has the shape getContext returns: " +
			"store paths mapped to { path ? false; allOutputs ? false; outputs ? [ ]; }."},
	{name: "unsafeDiscardStringContext", params: []string{"s"}, fn: primUnsafeDiscardStringContext,
		doc: "Returns s without its context, so the store paths it names are no longer dependencies. Unsafe: derivations using the result may miss inputs."},
	{name: "unsafeDiscardOutputDependency", params: []string{"s"}, fn: primUnsafeDiscardOutputDependency,
		doc: "Returns s with each reference to a derivation together with all it needs (as from drvPath) weakened to a reference to the .drv file alone, " +
			"so using it does not build anything."},
	{name: "addDrvOutputDependencies", params: []string{"s"}, fn: primAddDrvOutputDependencies,
		doc: "The reverse of unsafeDiscardOutputDependency: s must refer to exactly one .drv file, and the result refers to that derivation " +
			"together with all its outputs and everything they need."},
}

var (
	symCtxPath       = eval.Intern("path")
	symCtxAllOutputs = eval.Intern("allOutputs")
	symCtxOutputs    = eval.Intern("outputs")
)

func primHasContext(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	_, ctx, err := e.ForceString(args[0], lang.NoPos, "while evaluating the argument passed to builtins.hasContext")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Bool(len(ctx) > 0), nil
}

func primGetContext(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	_, ctx, err := e.ForceString(args[0], lang.NoPos, "while evaluating the argument passed to builtins.getContext")
	if err != nil {
		return eval.Value{}, err
	}
	type info struct {
		path, allOutputs bool
		outputs          []string
	}
	infos := map[string]*info{}
	get := func(p string) *info {
		if infos[p] == nil {
			infos[p] = &info{}
		}
		return infos[p]
	}
	for _, elem := range ctx {
		switch {
		case strings.HasPrefix(elem, "="):
			get(elem[1:]).allOutputs = true
		case strings.HasPrefix(elem, "!"):
			output, drv, _ := strings.Cut(elem[1:], "!")
			in := get(drv)
			in.outputs = append(in.outputs, output)
		default:
			get(elem).path = true
		}
	}
	b := eval.NewAttrsBuilder(len(infos))
	for p, in := range infos {
		ib := eval.NewAttrsBuilder(3)
		if in.path {
			ib.Add(symCtxPath, eval.True)
		}
		if in.allOutputs {
			ib.Add(symCtxAllOutputs, eval.True)
		}
		if len(in.outputs) > 0 {
			sort.Strings(in.outputs)
			outs := make([]eval.Value, len(in.outputs))
			for i, o := range in.outputs {
				outs[i] = eval.String(o)
			}
			ib.Add(symCtxOutputs, eval.List(outs))
		}
		b.AddString(p, ib.Value())
	}
	return b.Value(), nil
}

func primAppendContext(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := e.ForceString(args[0], lang.NoPos, argCtx(0, "appendContext"))
	if err != nil {
		return eval.Value{}, err
	}
	attrs, err := e.ForceAttrs(args[1], lang.NoPos, argCtx(1, "appendContext"))
	if err != nil {
		return eval.Value{}, err
	}
	var added []string
	for i := range attrs {
		a := &attrs[i]
		name := a.Name.String()
		if !isStorePathString(e.StoreDir(), name) {
			return eval.Value{}, eval.Errorf(eval.ErrEval, a.Pos(), "context key '%s' is not a store path", name)
		}
		info, err := e.ForceAttrs(a.Value, a.Pos(), "while evaluating the value of a string context")
		if err != nil {
			return eval.Value{}, err
		}
		if p := info.Get(symCtxPath); p != nil {
			b, err := e.ForceBool(p.Value, p.Pos(), "while evaluating the `path` attribute of a string context")
			if err != nil {
				return eval.Value{}, err
			}
			if b {
				added = append(added, eval.ContextOpaque(name))
			}
		}
		if p := info.Get(symCtxAllOutputs); p != nil {
			b, err := e.ForceBool(p.Value, p.Pos(), "while evaluating the `allOutputs` attribute of a string context")
			if err != nil {
				return eval.Value{}, err
			}
			if b {
				if !strings.HasSuffix(name, ".drv") {
					return eval.Value{}, eval.Errorf(eval.ErrEval, a.Pos(), "tried to add all-outputs context of %s, which is not a derivation, to a string", name)
				}
				added = append(added, eval.ContextDrvDeep(name))
			}
		}
		if p := info.Get(symCtxOutputs); p != nil {
			outs, err := e.ForceList(p.Value, p.Pos(), "while evaluating the `outputs` attribute of a string context")
			if err != nil {
				return eval.Value{}, err
			}
			if len(outs) > 0 && !strings.HasSuffix(name, ".drv") {
				return eval.Value{}, eval.Errorf(eval.ErrEval, a.Pos(), "tried to add derivation output context of %s, which is not a derivation, to a string", name)
			}
			for _, o := range outs {
				out, err := e.ForceStringNoCtx(o, p.Pos(), "while evaluating an output name within a string context")
				if err != nil {
					return eval.Value{}, err
				}
				added = append(added, eval.ContextBuilt(name, out))
			}
		}
	}
	return eval.StringWithContext(s, ctx.Union(eval.NewContext(added...))), nil
}

// coerceForContext coerces the argument of the context builtins: strings,
// paths (copied to the store) and sets with __toString or outPath.
func coerceForContext(e *eval.Eval, v eval.Value, name string) (string, eval.Context, error) {
	return e.CoerceToString(v, lang.NoPos, eval.CoerceOptions{CopyToStore: true}, "while evaluating the argument passed to builtins."+name)
}

func primUnsafeDiscardStringContext(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, _, err := coerceForContext(e, args[0], "unsafeDiscardStringContext")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.String(s), nil
}

func primUnsafeDiscardOutputDependency(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := coerceForContext(e, args[0], "unsafeDiscardOutputDependency")
	if err != nil {
		return eval.Value{}, err
	}
	out := make([]string, len(ctx))
	for i, elem := range ctx {
		out[i] = strings.TrimPrefix(elem, "=")
	}
	return eval.StringWithContext(s, eval.NewContext(out...)), nil
}

func primAddDrvOutputDependencies(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := coerceForContext(e, args[0], "addDrvOutputDependencies")
	if err != nil {
		return eval.Value{}, err
	}
	if len(ctx) != 1 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "context of string '%s' must have exactly one element, but has %d", s, len(ctx))
	}
	elem := ctx[0]
	switch {
	case strings.HasPrefix(elem, "="):
		// Already a whole derivation: unchanged, so this is idempotent.
	case strings.HasPrefix(elem, "!"):
		output, _, _ := strings.Cut(elem[1:], "!")
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '%s'", output)
	default:
		if !strings.HasSuffix(elem, ".drv") {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' is not a derivation", elem)
		}
		elem = eval.ContextDrvDeep(elem)
	}
	return eval.StringWithContext(s, eval.NewContext(elem)), nil
}

// isStorePathString reports whether s is a store path: the store
// directory, then a name made of a 32-character Nix base-32 hash, a dash
// and a valid store path name, with nothing after it.
func isStorePathString(storeDir, s string) bool {
	rest, ok := strings.CutPrefix(s, storeDir+"/")
	if !ok || strings.IndexByte(rest, '/') >= 0 || len(rest) < 34 || rest[32] != '-' {
		return false
	}
	for i := 0; i < 32; i++ {
		if !nixhash.IsBase32Digit(rest[i]) {
			return false
		}
	}
	name := rest[33:]
	if len(name) > 211 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+-._?=", c) >= 0) {
			return false
		}
	}
	return true
}
