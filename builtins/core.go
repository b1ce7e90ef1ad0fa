package builtins

import (
	"fmt"
	"os"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

var coreBuiltins = []builtin{
	{name: "true", global: true, doc: "The Boolean true.", constant: func(*Config) eval.Value { return eval.True }},
	{name: "false", global: true, doc: "The Boolean false.", constant: func(*Config) eval.Value { return eval.False }},
	{name: "null", global: true, doc: "The null value.", constant: func(*Config) eval.Value { return eval.Null }},
	{name: "currentSystem", doc: "The platform nixl runs on, such as \"x86_64-linux\"; the default `system` of derivations.",
		constant: func(c *Config) eval.Value { return eval.String(c.System) }},
	{name: "currentTime", doc: "The time evaluation started, in seconds since 1970 (impure: not available with --pure-eval).",
		constant: func(c *Config) eval.Value { return eval.Int(c.CurrentTime) }},
	{name: "nixVersion", doc: "The version of Nix whose language nixl implements, as a string.",
		constant: func(c *Config) eval.Value { return eval.String(c.NixVersion) }},
	{name: "langVersion", doc: "The revision of the Nix language that this evaluator implements, as an integer.",
		constant: func(*Config) eval.Value { return eval.Int(LangVersion) }},
	{name: "storeDir", doc: "The store directory, such as \"/nix/store\".",
		constant: func(c *Config) eval.Value { return eval.String(c.StoreDir) }},
	{name: "nixPath", doc: "The search path, as a list of { prefix, path } sets, from -I, NIXL_PATH and NIX_PATH in that order. `<x>` looks names up in it.",
		constant: nixPathValue},

	{name: "abort", global: true, params: []string{"s"}, fn: primAbort,
		doc: "Stops evaluation with the message s. Unlike `throw`, the error cannot be caught by `tryEval`."},
	{name: "throw", global: true, params: []string{"s"}, fn: primThrow,
		doc: "Raises an error with message s. `builtins.tryEval` catches it, so `throw` suits errors a caller may want to handle."},
	{name: "import", global: true, params: []string{"path"}, fn: primImport,
		doc: "Evaluates the file at path (a directory means its default.nix) and returns its value. Each file is evaluated once per evaluation."},
	{name: "scopedImport", global: true, params: []string{"scope", "path"}, fn: primScopedImport,
		doc: "Like import, but the attributes of scope are in scope as variables while evaluating the file."},
	{name: "tryEval", params: []string{"e"}, fn: primTryEval,
		doc: "Evaluates e (shallowly). Returns { success = true; value = e; } or, if a `throw` or failed `assert` happened, { success = false; value = false; }."},
	{name: "seq", params: []string{"e1", "e2"}, fn: primSeq,
		doc: "Evaluates e1 to weak head normal form, then returns e2."},
	{name: "deepSeq", params: []string{"e1", "e2"}, fn: primDeepSeq,
		doc: "Evaluates e1 completely (all nested list elements and attributes), then returns e2."},
	{name: "trace", params: []string{"e1", "e2"}, fn: primTrace,
		doc: "Prints e1 to standard error as `trace: VALUE` and returns e2."},
	{name: "traceVerbose", params: []string{"e1", "e2"}, fn: primTraceVerbose,
		doc: "Like trace when --trace-verbose is given; otherwise just returns e2."},
	{name: "warn", params: []string{"msg", "e"}, fn: primWarn,
		doc: "Prints `evaluation warning: msg` to standard error and returns e. With --abort-on-warn (or NIX_ABORT_ON_WARN=1) the warning is an error instead."},
	{name: "addErrorContext", params: []string{"s", "e"}, fn: primAddErrorContext, noTrace: true,
		doc: "Returns e; if evaluating e fails, the message s is added to the error's trace."},
	{name: "break", global: true, params: []string{"v"}, fn: primBreak,
		doc: "Returns v. In Nix it pauses in the debugger; nixl has no debugger, so it is the identity."},
	{name: "getEnv", params: []string{"s"}, fn: primGetEnv,
		doc: "Returns the value of the environment variable s, or \"\" if it is unset (always \"\" with --pure-eval)."},
	{name: "findFile", params: []string{"search-path", "lookup-path"}, fn: primFindFile,
		doc: "Looks lookup-path (such as \"nixpkgs/lib\") up in search-path (a list of { prefix, path } sets) and returns the first existing path. `<x>` means `findFile nixPath \"x\"`."},
	{name: "unsafeGetAttrPos", params: []string{"s", "set"}, fn: primUnsafeGetAttrPos,
		doc: "Returns { file, line, column } of the definition of attribute s in set, or null if unknown."},
}

func nixPathValue(c *Config) eval.Value {
	var elems []eval.Value
	for _, p := range c.SearchPath {
		b := eval.NewAttrsBuilder(2)
		b.AddString("path", eval.String(p.Path))
		b.AddString("prefix", eval.String(p.Prefix))
		elems = append(elems, b.Value())
	}
	return eval.List(elems)
}

func primAbort(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, _, err := e.CoerceToString(args[0], pos, eval.CoerceOptions{}, "while evaluating the error message passed to builtins.abort")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Value{}, eval.Errorf(eval.ErrAbort, lang.NoPos, "evaluation aborted with the following error message: '%s'", s)
}

func primThrow(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, _, err := e.CoerceToString(args[0], pos, eval.CoerceOptions{}, "while evaluating the error message passed to builtin.throw")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Value{}, eval.Errorf(eval.ErrThrown, lang.NoPos, "%s", s)
}

func primImport(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	path, err := realisePath(e, args[0], pos, "while evaluating the first argument passed to builtins.import")
	if err != nil {
		return eval.Value{}, err
	}
	return e.EvalFile(path, pos)
}

func primScopedImport(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	scope, err := e.ForceAttrs(args[0], lang.NoPos, "while evaluating the first argument passed to builtins.scopedImport")
	if err != nil {
		return eval.Value{}, err
	}
	path, err := realisePath(e, args[1], pos, "while evaluating the second argument passed to builtins.scopedImport")
	if err != nil {
		return eval.Value{}, err
	}
	return e.EvalFileInScope(path, scope, pos)
}

// realisePath coerces v to a path for reading (import, readFile…),
// building the derivation outputs its context names (import from
// derivation).
func realisePath(e *eval.Eval, v eval.Value, pos lang.Pos, ctx string) (string, error) {
	p, c, err := e.CoerceToPath(v, pos, ctx)
	if err != nil {
		return "", err
	}
	if len(c) > 0 {
		if err := realiseContext(e, c); err != nil {
			return "", eval.AddTrace(err, pos, "while realising the context of path '%s'", p)
		}
	}
	if err := checkReadable(e, eval.CanonPath(p), c); err != nil {
		return "", err
	}
	return eval.CanonPath(p), nil
}

func primTryEval(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v := args[0]
	b := eval.NewAttrsBuilder(2)
	if err := e.ForceAt(&v, pos); err != nil {
		if ee, ok := err.(*eval.Error); ok && ee.Catchable() {
			b.AddString("success", eval.False)
			b.AddString("value", eval.False)
			return b.Value(), nil
		}
		return eval.Value{}, err
	}
	b.AddString("success", eval.True)
	b.AddString("value", v)
	return b.Value(), nil
}

func primSeq(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if err := e.ForceAt(&args[0], pos); err != nil {
		return eval.Value{}, err
	}
	return e.ForceValue(args[1])
}

func primDeepSeq(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if err := e.ForceDeep(&args[0], pos); err != nil {
		return eval.Value{}, err
	}
	return e.ForceValue(args[1])
}

func primTrace(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if err := e.ForceAt(&args[0], pos); err != nil {
		return eval.Value{}, err
	}
	if args[0].Kind() == eval.KindString {
		fmt.Fprintf(e.Stderr, "trace: %s\n", args[0].Str())
	} else {
		s, _ := e.PrintValue(args[0], eval.PrintOptions{TrackRepeated: true})
		fmt.Fprintf(e.Stderr, "trace: %s\n", s)
	}
	return e.ForceValue(args[1])
}

func primTraceVerbose(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if e.TraceVerbose {
		return primTrace(e, args, pos)
	}
	return e.ForceValue(args[1])
}

func primWarn(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	msg, err := e.ForceStringNoCtx(args[0], lang.NoPos, "while evaluating the first argument passed to builtins.warn")
	if err != nil {
		return eval.Value{}, err
	}
	if e.AbortOnWarn || os.Getenv("NIX_ABORT_ON_WARN") == "1" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, pos, "%s", msg)
	}
	e.EvalWarning(msg)
	return e.ForceValue(args[1])
}

func primAddErrorContext(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v, err := e.ForceValue(args[1])
	if err != nil {
		if ee, ok := err.(*eval.Error); ok && ee.Kind == eval.ErrInfiniteRecursion && !ee.Pos.IsValid() {
			// The value was being forced here (let a = addErrorContext "…" a):
			// as Nix does, the recursion is reported at the call.
			ee.Pos = pos
		}
		msg, _, err2 := e.CoerceToString(args[0], pos, eval.CoerceOptions{}, "while evaluating the error message passed to builtins.addErrorContext")
		if err2 != nil {
			return eval.Value{}, err2
		}
		return eval.Value{}, eval.AddTraceAlways(err, lang.NoPos, msg)
	}
	return v, nil
}

func primBreak(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	return e.ForceValue(args[0])
}

func primGetEnv(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], lang.NoPos, "while evaluating the first argument passed to builtins.getEnv")
	if err != nil {
		return eval.Value{}, err
	}
	if e.PureEval {
		return eval.String(""), nil
	}
	return eval.String(os.Getenv(name)), nil
}

func primUnsafeGetAttrPos(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], lang.NoPos, "while evaluating the first argument passed to builtins.unsafeGetAttrPos")
	if err != nil {
		return eval.Value{}, err
	}
	attrs, err := e.ForceAttrs(args[1], lang.NoPos, "while evaluating the second argument passed to builtins.unsafeGetAttrPos")
	if err != nil {
		return eval.Value{}, err
	}
	a := attrs.Get(eval.Intern(name))
	if a == nil {
		return eval.Null, nil
	}
	return e.PosValue(a.Pos()), nil
}
