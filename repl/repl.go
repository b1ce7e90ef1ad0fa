// Package repl is the logic of nixl's read-eval-print loop, independent
// of the terminal.
//
// # Design
//
// A Session holds an evaluator and a scope: the names that :l, :a and
// `name = expr` added, in the order they were added (a later name hides an
// earlier one). An input is parsed in the evaluator's file set as
// «string», then wrapped in a function taking the scope as formals,
//
//	{ name1, name2, …, ... }: INPUT
//
// which is resolved against the global scope, evaluated, and applied to
// the set of the scope's values. So scope names are lexically bound (they
// hide builtins, as in `nix repl`), positions are those of the input
// text, and nothing in package eval had to know about REPLs. A binding
// `x = expr` stores the lazy application of that function: it is
// evaluated when first used, in the scope as it was when it was defined.
//
// Exec runs one complete input (an expression, a binding or a :command)
// and writes its result to the output and any error, rendered as Nix
// does, to the error output; a failure never ends the session. Incomplete
// tells whether an input needs more lines: it does when parsing it fails
// at its very end ("unexpected end of file"), which is how the line
// reader decides to prompt for a continuation line.
//
// Interrupt, safe to call from any goroutine (a SIGINT handler), stops
// the evaluation in progress through the evaluator's interruption flag;
// the flag is cleared before each input. Complete (for TAB) completes
// commands, file names after :l, scope names, builtins and attribute
// paths: for foo.bar.b it evaluates foo.bar with a time budget (the
// evaluator is interrupted when it runs out) and offers the attributes of
// the set.
//
// Values are printed lazily, as `nix repl` prints them: parts not yet
// evaluated show as «thunk», sets and lists deeper than the first level
// as { ... } and [ ... ], strings quoted, derivations as «derivation
// /nix/store/…drv», functions as «lambda @ file:line:col»; :p forces and
// prints the whole value.
//
// Building (:b) goes through the Builder interface; until the realiser
// exists it is nil and :b says building is not available yet.
//
// Run is the loop itself, over a LineReader (the terminal's line editor in
// nixl, a script in tests).
package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// Builder builds derivations for :b.
type Builder interface {
	// Build realises the derivation at drvPath and returns its outputs'
	// paths by output name.
	Build(drvPath string) (map[string]string, error)
}

// ErrBuildUnavailable is what :b reports without a Builder.
var ErrBuildUnavailable = errors.New("building is not available yet (nixl cannot realise derivations)")

// Options configure a session.
type Options struct {
	// NewEval makes a fresh evaluator: at the start, and for :r.
	NewEval func() (*eval.Eval, error)
	// Stdout receives values, Stderr errors and messages.
	Stdout io.Writer
	Stderr io.Writer
	// Builder builds derivations for :b; nil: not available.
	Builder Builder
	// Editor opens file at line for :e; nil runs $EDITOR (default vi)
	// with +LINE FILE.
	Editor func(file string, line int) error
	// CompletionBudget bounds the evaluation TAB completion does (default
	// one second).
	CompletionBudget time.Duration
	// Dir resolves relative paths (default: the working directory).
	Dir string
	// LibraryDoc, if set, returns the documentation of a function of the
	// standard library named by an attribute path (lib.strings.toUpper,
	// nixl.writeText, pkgs.lib.strings.toUpper), for :doc.
	LibraryDoc func(path string) (string, bool)
}

// Session is a REPL session.
type Session struct {
	opts Options

	mu     sync.Mutex // guards e, for Interrupt
	e      *eval.Eval
	names  []string
	values map[string]eval.Value
	scope  eval.Value // the scope as a set; invalid when names change
	dirty  bool
	loaded []string // :l arguments, for :r
	docs   map[string]builtins.Doc
}

// New starts a session.
func New(opts Options) (*Session, error) {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.CompletionBudget <= 0 {
		opts.CompletionBudget = time.Second
	}
	if opts.Dir == "" {
		opts.Dir, _ = os.Getwd()
	}
	s := &Session{opts: opts, docs: map[string]builtins.Doc{}}
	for _, d := range builtins.Docs() {
		s.docs[d.Name] = d
	}
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Session) reset() error {
	e, err := s.opts.NewEval()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.e = e
	s.mu.Unlock()
	s.names = nil
	s.values = map[string]eval.Value{}
	s.dirty = true
	return nil
}

// Eval is the session's current evaluator.
func (s *Session) Eval() *eval.Eval {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.e
}

// Interrupt stops the evaluation in progress (from any goroutine).
func (s *Session) Interrupt() {
	s.mu.Lock()
	e := s.e
	s.mu.Unlock()
	if e != nil {
		e.Interrupt()
	}
}

// Names lists the scope's names, sorted.
func (s *Session) Names() []string {
	out := append([]string(nil), s.names...)
	sort.Strings(out)
	return out
}

// AddBinding binds name to v in the scope.
func (s *Session) AddBinding(name string, v eval.Value) {
	if _, ok := s.values[name]; !ok {
		s.names = append(s.names, name)
	}
	s.values[name] = v
	s.dirty = true
}

func (s *Session) scopeValue() eval.Value {
	if s.dirty {
		b := eval.NewAttrsBuilder(len(s.names))
		for _, n := range s.names {
			b.AddString(n, s.values[n])
		}
		s.scope = b.Value()
		s.dirty = false
	}
	return s.scope
}

func (s *Session) printf(format string, args ...any) { fmt.Fprintf(s.opts.Stdout, format, args...) }

// errorf reports a REPL-level error (not an evaluation error).
func (s *Session) errorf(format string, args ...any) {
	fmt.Fprintf(s.opts.Stderr, "error: "+format+"\n", args...)
}

// render prints an error as Nix does, and an empty line.
func (s *Session) render(err error) {
	fmt.Fprint(s.opts.Stderr, s.Render(err)+"\n")
}

// Render formats an error of this session as Nix does.
func (s *Session) Render(err error) string {
	var l lang.ErrorList
	if errors.As(err, &l) && len(l) > 0 {
		return l[0].Format(s.e.FileSet())
	}
	var ee *eval.Error
	if errors.As(err, &ee) && ee.Kind == eval.ErrInterrupted {
		return "error: interrupted by the user\n"
	}
	return s.e.Render(err)
}

// parse parses an input in the scope: the function { names…, ... }: src.
func (s *Session) parse(src string) (lang.Expr, error) {
	e := s.e
	x, _, err := lang.Parse(e.FileSet(), "«string»", src, lang.Config{BaseDir: s.opts.Dir, Home: e.Home, PipeOperators: e.PipeOperators})
	if err != nil {
		return nil, err
	}
	lam := &lang.Lambda{HasFormals: true, Ellipsis: true, Body: x}
	for _, n := range s.names {
		lam.Formals = append(lam.Formals, lang.Formal{Name: n})
	}
	if errs := lang.Resolve(e.FileSet(), lam, e.BaseEnv(), false); len(errs) > 0 {
		return nil, errs
	}
	return lam, nil
}

// lazy returns the unevaluated value of src in the current scope.
func (s *Session) lazy(src string) (eval.Value, error) {
	lam, err := s.parse(src)
	if err != nil {
		return eval.Value{}, err
	}
	fn, err := s.e.EvalExpr(lam)
	if err != nil {
		return eval.Value{}, err
	}
	return eval.NewApp(fn, s.scopeValue()), nil
}

// EvalString evaluates src in the scope to weak head normal form.
func (s *Session) EvalString(src string) (eval.Value, error) {
	v, err := s.lazy(src)
	if err != nil {
		return eval.Value{}, err
	}
	if err := s.e.Force(&v); err != nil {
		return eval.Value{}, err
	}
	return v, nil
}

// Incomplete reports whether input needs more lines: it fails to parse
// at its end.
func (s *Session) Incomplete(input string) bool {
	src := strings.TrimSpace(input)
	if src == "" {
		return false
	}
	if src[0] == ':' {
		cmd, arg := splitCommand(src)
		switch cmd {
		case ":p", ":print", ":t", ":type", ":a", ":add", ":b", ":build", ":e", ":edit":
			src = arg
		default:
			return false
		}
	} else if _, rhs, ok := splitBinding(src); ok {
		src = rhs
	}
	if strings.TrimSpace(src) == "" {
		return false
	}
	_, _, err := lang.Parse(lang.NewFileSet(), "«string»", src, lang.Config{BaseDir: "/"})
	var l lang.ErrorList
	if !errors.As(err, &l) || len(l) == 0 {
		return false
	}
	return l[0].Posn.Offset >= len(src) || strings.Contains(l[0].Msg, "unexpected end of file")
}

// splitCommand splits ":cmd arg".
func splitCommand(src string) (cmd, arg string) {
	i := strings.IndexAny(src, " \t\n")
	if i < 0 {
		return src, ""
	}
	return src[:i], strings.TrimSpace(src[i+1:])
}

// splitBinding recognises `name = expr` (not ==).
func splitBinding(src string) (name, rhs string, ok bool) {
	i := 0
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	start := i
	if i >= len(src) || !(isIdentStart(src[i])) {
		return "", "", false
	}
	for i < len(src) && isIdentChar(src[i]) {
		i++
	}
	name = src[start:i]
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i >= len(src) || src[i] != '=' || i+1 < len(src) && src[i+1] == '=' {
		return "", "", false
	}
	switch name {
	case "let", "in", "if", "then", "else", "with", "rec", "inherit", "assert", "or":
		return "", "", false
	}
	return name, src[i+1:], true
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '\'' || c == '-'
}

// ErrQuit is returned by Exec for :q.
var ErrQuit = errors.New("quit")

// Exec runs one complete input. It returns ErrQuit for :q; every other
// failure is reported on the error output.
func (s *Session) Exec(input string) error {
	src := strings.TrimSpace(input)
	if src == "" {
		return nil
	}
	s.e.ClearInterrupt()
	defer func() {
		if r := recover(); r != nil {
			s.errorf("internal error (please report it): %v", r)
		}
	}()
	if src[0] == ':' {
		return s.command(src)
	}
	if name, rhs, ok := splitBinding(src); ok {
		v, err := s.lazy(rhs)
		if err != nil {
			s.render(err)
			return nil
		}
		s.AddBinding(name, v)
		return nil
	}
	v, err := s.EvalString(src)
	if err != nil {
		s.render(err)
		return nil
	}
	s.printValue(v, false)
	return nil
}

// PrintOptions are those of the REPL's value printing.
var PrintOptions = eval.PrintOptions{Derivations: true, MaxDepth: 1, TrackRepeated: true}

func (s *Session) printValue(v eval.Value, deep bool) {
	var out string
	var err error
	if deep {
		if err = s.e.ForceDeep(&v, lang.NoPos); err == nil {
			out, err = s.e.PrintValue(v, eval.PrintOptions{Force: true, Derivations: true, TrackRepeated: true})
		}
	} else {
		s.forceDrvPaths(v, 0)
		out, err = s.e.PrintValue(v, PrintOptions)
	}
	if err != nil {
		s.render(err)
		return
	}
	s.printf("%s\n\n", out)
}

// forceDrvPaths evaluates the type and drvPath of the derivations the
// printer will show, so that they print as «derivation /nix/store/…».
func (s *Session) forceDrvPaths(v eval.Value, depth int) {
	if depth > PrintOptions.MaxDepth || v.IsThunk() {
		return
	}
	switch v.Kind() {
	case eval.KindAttrs:
		if ok, err := s.e.IsDerivation(v); err == nil && ok {
			if a := v.AttrsValue().Get(eval.Intern("drvPath")); a != nil {
				_ = s.e.Force(&a.Value)
			}
			return
		}
		for _, a := range v.AttrsValue() {
			s.forceDrvPaths(a.Value, depth+1)
		}
	case eval.KindList:
		for _, x := range v.ListValue() {
			s.forceDrvPaths(x, depth+1)
		}
	}
}

const help = `The following commands are available:

  <expr>              Evaluate and print expression
  <x> = <expr>        Bind expression to variable
  :a, :add <expr>     Add attributes from resulting set to scope
  :b, :build <expr>   Build a derivation
  :doc <name>         Show documentation of a builtin or library function
  :e, :edit <expr>    Open the definition of a function in $EDITOR
  :l, :load <path>    Load Nix expression and add it to scope
  :p, :print <expr>   Evaluate and print expression recursively
  :q, :quit           Exit nixl repl
  :r, :reload         Reload all files
  :t, :type <expr>    Describe result of evaluation
  :?, :help           Brings up this help menu
`

// Commands lists the commands, for completion.
var Commands = []string{":?", ":a", ":add", ":b", ":build", ":doc", ":e", ":edit", ":help", ":l", ":load", ":p", ":print", ":q", ":quit", ":r", ":reload", ":t", ":type"}

func (s *Session) command(src string) error {
	cmd, arg := splitCommand(src)
	needArg := func() bool {
		if arg == "" {
			s.errorf("command '%s' requires an argument", cmd)
			return false
		}
		return true
	}
	switch cmd {
	case ":q", ":quit":
		return ErrQuit
	case ":?", ":help":
		s.printf("%s", help)
	case ":l", ":load":
		if needArg() {
			s.load(arg)
		}
	case ":a", ":add":
		if needArg() {
			v, err := s.EvalString(arg)
			if err == nil {
				err = s.addAttrs(v)
			}
			if err != nil {
				s.render(err)
			}
		}
	case ":r", ":reload":
		s.reload()
	case ":p", ":print":
		if needArg() {
			v, err := s.EvalString(arg)
			if err != nil {
				s.render(err)
				break
			}
			s.printValue(v, true)
		}
	case ":t", ":type":
		if needArg() {
			v, err := s.EvalString(arg)
			if err != nil {
				s.render(err)
				break
			}
			s.printf("%s\n", v.ShowType())
		}
	case ":doc":
		if needArg() {
			s.doc(arg)
		}
	case ":b", ":build":
		if needArg() {
			s.build(arg)
		}
	case ":e", ":edit":
		if needArg() {
			s.edit(arg)
		}
	default:
		s.errorf("unknown command '%s' (:? lists the commands)", cmd)
	}
	return nil
}

// Load loads a file (or, for <…>, a search path expression) into scope,
// as :l does.
func (s *Session) Load(arg string) error {
	var v eval.Value
	var err error
	if strings.HasPrefix(arg, "<") {
		v, err = s.EvalString(arg)
	} else {
		path := arg
		if strings.HasPrefix(path, "~/") {
			path = filepath.Join(s.e.Home, path[2:])
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.opts.Dir, path)
		}
		fmt.Fprintf(s.opts.Stdout, "Loading '%s'...\n", arg)
		v, err = s.e.EvalFile(path, lang.NoPos)
	}
	if err != nil {
		return err
	}
	if v, err = s.autoCall(v); err != nil {
		return err
	}
	if err := s.addAttrs(v); err != nil {
		return err
	}
	s.loaded = append(s.loaded, arg)
	return nil
}

func (s *Session) load(arg string) {
	if err := s.Load(arg); err != nil {
		s.render(err)
	}
}

// autoCall calls a function taking a set with {} (its defaults), as
// nix repl does with what :l loads.
func (s *Session) autoCall(v eval.Value) (eval.Value, error) {
	if err := s.e.Force(&v); err != nil {
		return v, err
	}
	if v.Kind() == eval.KindLambda {
		if _, _, ok := v.Closure().Formals(); ok {
			return s.e.CallFunction(v, []eval.Value{eval.NewAttrsBuilder(0).Value()}, lang.NoPos)
		}
	}
	return v, nil
}

func (s *Session) addAttrs(v eval.Value) error {
	attrs, err := s.e.ForceAttrs(v, lang.NoPos, "while evaluating the value to add to the scope")
	if err != nil {
		return err
	}
	for _, a := range attrs.Lexicographic() {
		s.AddBinding(a.Name.String(), a.Value)
	}
	s.printf("Added %d variables.\n", len(attrs))
	return nil
}

// reload starts again from a fresh evaluator and loads the files again.
func (s *Session) reload() {
	files := s.loaded
	if err := s.reset(); err != nil {
		s.errorf("%v", err)
		return
	}
	s.loaded = nil
	for _, f := range files {
		s.load(f)
	}
}

func (s *Session) doc(name string) {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "builtins."), "__")
	d, ok := s.docs[n]
	if !ok && s.opts.LibraryDoc != nil {
		// nixl.lib.strings.toUpper is documented in the library even when
		// its value is a builtin applied to arguments.
		if text, found := s.libraryDoc(name); found {
			s.printf("%s", text)
			return
		}
	}
	if !ok {
		// A name bound in the scope to a builtin.
		if v, err := s.EvalString(name); err == nil {
			switch v.Kind() {
			case eval.KindPrimOp:
				d, ok = s.docs[v.PrimOpValue().Name]
			case eval.KindPrimOpApp:
				d, ok = s.docs[v.PrimOpAppValue().Op.Name]
			}
		}
	}
	if !ok {
		s.errorf("no documentation found for '%s'", name)
		return
	}
	s.printf("%s", FormatDoc(d))
}

// libraryDoc asks the library for the documentation of an attribute
// path of two or more names.
func (s *Session) libraryDoc(name string) (string, bool) {
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return "", false
	}
	for _, p := range parts {
		if !isIdentifier(p) {
			return "", false
		}
	}
	return s.opts.LibraryDoc(name)
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && (r == '\'' || r == '-' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// FormatDoc renders a builtin's documentation as :doc shows it.
func FormatDoc(d builtins.Doc) string {
	var b strings.Builder
	b.WriteString("Synopsis: builtins." + d.Name)
	for _, p := range d.Params {
		b.WriteString(" " + p)
	}
	b.WriteString("\n\n")
	text := strings.TrimSpace(d.Doc)
	if text == "" {
		text = "(no documentation)"
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Session) build(arg string) {
	v, err := s.EvalString(arg)
	if err != nil {
		s.render(err)
		return
	}
	ok, err := s.e.IsDerivation(v)
	if err != nil {
		s.render(err)
		return
	}
	if !ok {
		s.errorf("expression does not evaluate to a derivation, so I can't build it")
		return
	}
	a := v.AttrsValue().Get(eval.Intern("drvPath"))
	if a == nil {
		s.errorf("derivation has no drvPath")
		return
	}
	drvPath, _, err := s.e.ForceString(a.Value, lang.NoPos, "while evaluating the drvPath of a derivation")
	if err != nil {
		s.render(err)
		return
	}
	if s.opts.Builder == nil {
		s.errorf("%v; the derivation is %s", ErrBuildUnavailable, drvPath)
		return
	}
	outs, err := s.opts.Builder.Build(drvPath)
	if err != nil {
		s.errorf("%v", err)
		return
	}
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	s.printf("\nThis derivation produced the following outputs:\n")
	for _, n := range names {
		s.printf("  %s -> %s\n", n, outs[n])
	}
}

// Location finds where the value of src is defined, for :e: a function's
// definition, a path itself, or a derivation's meta.position.
func (s *Session) Location(src string) (file string, line int, err error) {
	v, err := s.EvalString(src)
	if err != nil {
		return "", 0, err
	}
	switch v.Kind() {
	case eval.KindLambda:
		posn := s.e.FileSet().Position(v.Closure().Pos())
		if !posn.IsValid() || strings.HasPrefix(posn.Filename, "«") {
			return "", 0, fmt.Errorf("the function is not defined in a file")
		}
		return posn.Filename, posn.Line, nil
	case eval.KindPath:
		return v.Str(), 0, nil
	case eval.KindAttrs:
		if meta := v.AttrsValue().Get(eval.Intern("meta")); meta != nil {
			if err := s.e.Force(&meta.Value); err == nil && meta.Value.Kind() == eval.KindAttrs {
				if p := meta.Value.AttrsValue().Get(eval.Intern("position")); p != nil {
					if err := s.e.Force(&p.Value); err == nil && p.Value.Kind() == eval.KindString {
						pos := p.Value.Str()
						if i := strings.LastIndexByte(pos, ':'); i >= 0 {
							n, _ := strconv.Atoi(pos[i+1:])
							return pos[:i], n, nil
						}
						return pos, 0, nil
					}
				}
			}
		}
	}
	return "", 0, fmt.Errorf("cannot find where %s is defined (only functions, paths and derivations with meta.position)", v.ShowType())
}

func (s *Session) edit(arg string) {
	file, line, err := s.Location(arg)
	if err != nil {
		var ee *eval.Error
		var l lang.ErrorList
		if errors.As(err, &ee) || errors.As(err, &l) {
			s.render(err)
		} else {
			s.errorf("%v", err)
		}
		return
	}
	open := s.opts.Editor
	if open == nil {
		open = RunEditor
	}
	if err := open(file, line); err != nil {
		s.errorf("%v", err)
		return
	}
	// The file may have changed.
	s.reload()
}

// RunEditor runs $EDITOR (default vi) with +LINE FILE on the terminal.
func RunEditor(file string, line int) error {
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	args := strings.Fields(editor)
	if line > 0 {
		args = append(args, "+"+strconv.Itoa(line))
	}
	args = append(args, file)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
