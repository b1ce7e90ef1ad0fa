package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

func init() {
	register(&command{name: "eval", summary: "evaluate an expression and print its value", run: func(c *cli, args []string) int {
		return c.instantiate("eval", append([]string{"--eval"}, args...))
	}})
	register(&command{name: "instantiate", summary: "write the .drv files of derivations (or --eval, --parse)", run: func(c *cli, args []string) int {
		return c.instantiate("instantiate", args)
	}})
}

type instantiateFlags struct {
	evalFlags
	stateDir   string
	evalOnly   bool
	parseOnly  bool
	strict     bool
	json       bool
	xml        bool
	noLocation bool
	raw        bool
}

func (c *cli) instantiate(name string, args []string) int {
	var f instantiateFlags
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.BoolVar(&f.evalOnly, "eval", false, "evaluate and print the value instead of writing derivations")
	fs.BoolVar(&f.parseOnly, "parse", false, "print the parsed expression (desugared, as nix-instantiate --parse)")
	fs.BoolVar(&f.strict, "strict", false, "evaluate the whole value, not just its top")
	fs.BoolVar(&f.json, "json", false, "print the value as JSON")
	fs.BoolVar(&f.xml, "xml", false, "print the value as XML")
	fs.BoolVar(&f.noLocation, "no-location", false, "omit source locations from --xml output")
	fs.BoolVar(&f.raw, "raw", false, "print a string value without quotes")
	fs.Bool("read-write-mode", false, "accepted for compatibility")
	if name == "instantiate" {
		fs.StringVar(&f.stateDir, "state-dir", "", "the state `DIR` of the store the .drv files go to (default: $NIXL_STATE_DIR, else the per-user one)")
	}
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl %s [FLAGS] [FILE | -E EXPR | -]\n\nFlags:\n%s", name, fs.FlagUsages())
	}
	if rc, stop := c.parseEvalFlags(fs, &f.evalFlags, args); stop {
		return rc
	}
	if f.parseOnly {
		return c.parse(&f.evalFlags, fs.Args())
	}
	if !f.evalOnly {
		// Instantiation writes the .drv files (and the sources they use)
		// into the local store, and builds for import from derivation.
		ws, err := c.openWriteStore(&f.evalFlags, f.stateDir)
		if err != nil {
			return c.errorf("%v", err)
		}
		defer ws.close(&f.evalFlags)
		e, err := c.newEvaluator(&f.evalFlags)
		if err != nil {
			return c.errorf("%v", err)
		}
		targets, err := c.instantiateTargets(e, &f.evalFlags, fs.Args())
		if err != nil {
			fmt.Fprint(c.stderr, e.Render(err))
			return 1
		}
		for _, t := range targets {
			if t.output != "out" {
				fmt.Fprintf(c.stdout, "%s!%s\n", t.drvPath, t.output)
			} else {
				fmt.Fprintln(c.stdout, t.drvPath)
			}
		}
		return 0
	}
	e, err := c.newEvaluator(&f.evalFlags)
	if err != nil {
		return c.errorf("%v", err)
	}
	if code := c.runEval(e, name, &f, fs.Args()); code != 0 {
		return code
	}
	return 0
}

// runEval evaluates and prints, reporting errors Nix-style.
func (c *cli) runEval(e *eval.Eval, cmdName string, f *instantiateFlags, args []string) int {
	fail := func(err error) int {
		fmt.Fprint(c.stderr, e.Render(err))
		if ee, ok := err.(*eval.Error); ok && ee.Kind == eval.ErrUsage {
			fmt.Fprintf(c.stderr, "Try 'nixl %s --help' for more information.\n", cmdName)
		}
		return 1
	}
	root, err := c.loadRoot(e, &f.evalFlags, args)
	if err != nil {
		return fail(err)
	}
	autoArgs, err := autoArgsValue(e, f.autoArgs)
	if err != nil {
		return fail(err)
	}
	paths := f.attrPaths
	if len(paths) == 0 {
		paths = []string{""}
	}
	for _, p := range paths {
		v, err := findAlongAttrPath(e, p, autoArgs, root)
		if err != nil {
			return fail(err)
		}
		if len(autoArgs) > 0 {
			if v, err = autoCall(e, autoArgs, v); err != nil {
				return fail(err)
			}
		}
		out, err := formatResult(e, v, f)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(c.stdout, out)
	}
	return 0
}

func formatResult(e *eval.Eval, v eval.Value, f *instantiateFlags) (string, error) {
	switch {
	case f.json:
		return builtins.ToJSON(e, v, f.strict)
	case f.xml:
		return builtins.ToXML(e, v, f.strict, !f.noLocation)
	}
	if f.strict {
		if err := e.ForceDeep(&v, lang.NoPos); err != nil {
			return "", err
		}
	} else if err := e.Force(&v); err != nil {
		return "", err
	}
	if f.raw && v.Kind() == eval.KindString {
		return v.Str(), nil
	}
	return e.PrintValue(v, eval.PrintOptions{Ambiguous: true, TrackRepeated: true})
}

// autoCall calls a function taking a set with the --arg values, as
// nix-instantiate does with the value it prints or builds.
func autoCall(e *eval.Eval, args eval.Attrs, fn eval.Value) (eval.Value, error) {
	if err := e.Force(&fn); err != nil {
		return eval.Value{}, err
	}
	if fn.Kind() == eval.KindAttrs {
		if f := fn.AttrsValue().Get(eval.Intern("__functor")); f != nil {
			r, err := e.CallFunction(f.Value, []eval.Value{fn}, lang.NoPos)
			if err != nil {
				return eval.Value{}, err
			}
			return autoCall(e, args, r)
		}
	}
	if fn.Kind() != eval.KindLambda {
		return fn, nil
	}
	names, hasDefault, ok := fn.Closure().Formals()
	if !ok {
		return fn, nil
	}
	b := eval.NewAttrsBuilder(len(names))
	if fn.Closure().Node().Ellipsis {
		for _, a := range args {
			b.Add(a.Name, a.Value)
		}
	} else {
		for i, n := range names {
			if a := args.Get(eval.Intern(n)); a != nil {
				b.Add(a.Name, a.Value)
			} else if !hasDefault[i] {
				formal := fn.Closure().Node().Formals[i]
				return eval.Value{}, eval.Errorf(eval.ErrMissingArgument, formal.Pos, "%s", strings.Join([]string{
					"cannot evaluate a function that has an argument without a value ('" + n + "')",
					"Nix attempted to evaluate a function as a top level expression; in",
					"this case it must have its arguments supplied either by default",
					"values, or passed explicitly with '--arg' or '--argstr'. See",
					"https://nix.dev/manual/nix/stable/language/syntax.html#functions.",
				}, "\n"))
			}
		}
	}
	return e.CallFunction(fn, []eval.Value{b.Value()}, lang.NoPos)
}

// findAlongAttrPath selects a.b.0.c from v, auto-calling functions on the
// way as nix-instantiate does.
func findAlongAttrPath(e *eval.Eval, path string, autoArgs eval.Attrs, v eval.Value) (eval.Value, error) {
	if path == "" {
		return v, nil
	}
	for _, elem := range splitAttrPath(path) {
		var err error
		if v, err = autoCall(e, autoArgs, v); err != nil {
			return eval.Value{}, err
		}
		if err := e.Force(&v); err != nil {
			return eval.Value{}, err
		}
		if n, err := strconv.Atoi(elem); err == nil && n >= 0 {
			if v.Kind() != eval.KindList {
				return eval.Value{}, eval.Errorf(eval.ErrType, lang.NoPos, "the expression selected by the selection path '%s' should be a list but is %s: %s", path, v.ShowType(), e.ShowValueShort(v))
			}
			if n >= v.Len() {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "list index %d in selection path '%s' is out of range", n, path)
			}
			v = v.ListValue()[n]
			continue
		}
		if v.Kind() != eval.KindAttrs {
			return eval.Value{}, eval.Errorf(eval.ErrType, lang.NoPos, "the expression selected by the selection path '%s' should be a set but is %s: %s", path, v.ShowType(), e.ShowValueShort(v))
		}
		a := v.AttrsValue().Get(eval.Intern(elem))
		if a == nil {
			var names []string
			for _, x := range v.AttrsValue() {
				names = append(names, x.Name.String())
			}
			err := eval.Errorf(eval.ErrEval, lang.NoPos, "attribute '%s' in selection path '%s' not found", elem, path)
			err.Hint = eval.Suggest(names, elem)
			return eval.Value{}, err
		}
		v = a.Value
	}
	return v, nil
}

// splitAttrPath splits a.b."c.d" into its elements.
func splitAttrPath(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	return append(out, cur.String())
}

func readAll(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

// parse implements nixl parse and instantiate --parse.
func (c *cli) parse(f *evalFlags, args []string) int {
	var name, src, base string
	cwd, _ := os.Getwd()
	switch {
	case f.exprSet:
		name, src, base = "«string»", f.expr, cwd
	case len(args) == 0 || args[0] == "-":
		s, err := readAll(c.stdin)
		if err != nil {
			return c.errorf("%v", err)
		}
		name, src, base = "«stdin»", s, cwd
	default:
		// As nix-instantiate --parse: an absolute path in messages, and
		// a directory's default.nix.
		abs, _ := filepath.Abs(args[0])
		if st, err := os.Stat(abs); err == nil && st.IsDir() {
			abs = filepath.Join(abs, "default.nix")
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return c.errorf("%s", describeFileError(abs, err))
		}
		name, src, base = abs, unsafe.String(unsafe.SliceData(b), len(b)), filepath.Dir(abs) // b is never written again
	}
	// An AST takes about 16 bytes per byte of source, all of it live
	// until the command ends (printing it allocates only the output).
	defer expectLive(uint64(len(src)) * 16)()
	fset := lang.NewFileSet()
	x, _, err := lang.Parse(fset, name, src, lang.Config{BaseDir: base, Home: os.Getenv("HOME"), PipeOperators: f.featureSet()["pipe-operators"]})
	if err != nil {
		c.printFirstError(fset, err.(lang.ErrorList))
		return 1
	}
	// Resolve runs while the tree is printed, on the other core if there
	// is one: printing looks at nothing Resolve fills in. Output is held
	// back until Resolve has succeeded, so that an undefined variable
	// still prints nothing but the error. It is written out as it is
	// printed after that: the parsed form is about as long as the
	// source, and a buffer for all of it would be as big again.
	resolved := make(chan lang.ErrorList, 1)
	go func() { resolved <- lang.Resolve(fset, x, lang.NewStaticEnv(nil, builtins.Names()), false) }()
	out := &heldWriter{w: c.stdout, resolved: resolved}
	lang.ShowTo(out, x)
	if errs := out.finish(); len(errs) > 0 {
		c.printFirstError(fset, errs)
		return 1
	}
	io.WriteString(c.stdout, "\n")
	return 0
}

func (c *cli) printFirstError(fset *lang.FileSet, errs lang.ErrorList) {
	if len(errs) > 0 {
		fmt.Fprint(c.stderr, errs[0].Format(fset))
	}
}

// heldWriter passes writes on to w once a result arrives on resolved
// with no errors, keeping copies of those made before; after errors it
// takes no more.
type heldWriter struct {
	w        io.Writer
	resolved <-chan lang.ErrorList
	done     bool
	errs     lang.ErrorList
	held     [][]byte
}

var errNotResolved = errors.New("the expression does not resolve")

func (h *heldWriter) Write(p []byte) (int, error) {
	if !h.done {
		select {
		case h.errs = <-h.resolved:
			h.done = true
		default:
			h.held = append(h.held, bytes.Clone(p))
			return len(p), nil
		}
	}
	if len(h.errs) > 0 {
		return 0, errNotResolved
	}
	if err := h.release(); err != nil {
		return 0, err
	}
	return h.w.Write(p)
}

// release writes out what is held.
func (h *heldWriter) release() error {
	for len(h.held) > 0 {
		_, err := h.w.Write(h.held[0])
		h.held = h.held[1:]
		if err != nil {
			h.held = nil
			return err
		}
	}
	return nil
}

// finish waits for the result, writes out what is held if there are no
// errors, and returns the errors.
func (h *heldWriter) finish() lang.ErrorList {
	if !h.done {
		h.errs, h.done = <-h.resolved, true
	}
	if len(h.errs) == 0 {
		h.release()
	}
	return h.errs
}

func describeFileError(path string, err error) string {
	if os.IsNotExist(err) {
		return fmt.Sprintf("path '%s' does not exist", path)
	}
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Sprintf("cannot read '%s': %v", path, pe.Err)
	}
	return err.Error()
}

func init() {
	register(&command{name: "parse", summary: "print the parsed form of a file, like nix-instantiate --parse", run: func(c *cli, args []string) int {
		var f evalFlags
		fs := pflag.NewFlagSet("parse", pflag.ContinueOnError)
		fs.SetOutput(c.stderr)
		f.register(fs)
		fs.Usage = func() {
			fmt.Fprintf(c.stderr, "Usage: nixl parse [FLAGS] [FILE | -E EXPR | -]\n\nFlags:\n%s", fs.FlagUsages())
		}
		if rc, stop := c.parseFlags(fs, args); stop {
			return rc
		}
		f.exprSet = fs.Changed("expr")
		return c.parse(&f, fs.Args())
	}})
}
