package eval

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nixl-project/nixl/lang"
)

// Store is what evaluation needs from a store: computing the store paths
// of files copied into it (and, for a writable store, copying them). The
// realiser's store implements it; evaluation never depends on realise.
type Store interface {
	// Dir is the store directory, e.g. /nix/store.
	Dir() string
	// AddPath adds the file or directory at srcPath under name, recursively
	// (NAR, sha256) or flat, keeping only what filter accepts, and returns
	// its store path. A read-only store only computes the path.
	AddPath(name, srcPath string, recursive bool, filter PathFilter) (string, error)
	// AddText adds a text file with the given references.
	AddText(name, text string, refs []string) (string, error)
}

// PathFilter decides whether a file goes into the store; kind is
// "regular", "directory", "symlink" or "unknown".
type PathFilter func(path, kind string) (bool, error)

// SearchPathEntry is one element of the search path: <prefix/…> is looked
// up in path (an empty prefix matches everything).
type SearchPathEntry struct {
	Prefix string
	Path   string
}

// Options configure an evaluator.
type Options struct {
	Store      Store
	SearchPath []SearchPathEntry
	// PureEval forbids impure operations (getEnv, currentTime, paths
	// outside the allowed roots…).
	PureEval bool
	// MaxCallDepth bounds nested function calls (0: the default).
	MaxCallDepth int
	ShowTrace    bool
	// Stderr receives traces and warnings.
	Stderr io.Writer
	// Home is the directory ~ means.
	Home string
	// System is builtins.currentSystem.
	System string
	// Builtins is the table of built-in functions and constants.
	Builtins []Builtin
	// Lints enables Nix's optional path and URL literal checks.
	Lints Lints
	// PipeOperators enables |> and <|.
	PipeOperators bool
	// AbortOnWarn makes builtins.warn fatal.
	AbortOnWarn bool
	// TraceVerbose enables builtins.traceVerbose.
	TraceVerbose bool
	// Experimental features switched on, by name.
	Features map[string]bool
	// Internal files (<nix/fetchurl.nix>…) readable at InternalDir.
	Internal fs.FS
	// MaxMemory, if not 0, is the memory limit in bytes: an evaluation
	// whose heap grows beyond it fails with ErrMemoryLimit (memory.go).
	MaxMemory uint64
}

// InternalDir is where the evaluator's built-in files appear as paths.
const InternalDir = "/__nixl/corepkgs"

// Builtin is an entry of the builtins set.
type Builtin struct {
	Name  string
	Value Value
	// Global: also bound as a plain variable (map, toString, true…);
	// otherwise as __NAME.
	Global bool
}

// DefaultMaxCallDepth is deep enough for a 1,000,000-deep non-tail
// recursion; the evaluator's stack is sized for it.
const DefaultMaxCallDepth = 2_000_000

// stackPerLevel bounds the Go stack one level of evaluation depth takes
// (measured at about 330 bytes for a plain recursive call, more when
// the recursion goes through builtins); New sizes the
// goroutine stack limit by it so that max-call-depth, not the Go runtime,
// ends a runaway recursion.
const stackPerLevel = 4 << 10

// Eval is an evaluator: the global scope, caches, and settings.
type Eval struct {
	Options
	fset        *lang.FileSet
	globals     []Value
	globalNames []string
	baseEnv     *lang.StaticEnv
	builtins    Value
	fileCache   map[string]Value
	storeCache  map[string]string
	// argStack holds the arguments of calls of builtins from Nix code
	// (callCode.callGeneral), a stack rather than a slice per call:
	// builtins do not keep their argument slice.
	argStack []Value
	// digits holds the text of integers that concat writes in place
	// of toString's strings (concat), up to the join; nested concats
	// append after their callers' and truncate back.
	digits []byte
	// freeEnv1 are one-slot call scopes to reuse (env.go), freeFrames
	// call frames (callLambdaLazy).
	freeEnv1   []*Env
	freeFrames []*callFrame
	// allowed are the roots a pure evaluation may read (allowed.go).
	allowed allowedPaths
	// depth counts nested function calls and thunk evaluations, the two
	// ways evaluation recurses without bound; maxCallDepth bounds it.
	depth        int
	maxCallDepth int
	// stack measures the Go stack of deep evaluations (stack.go).
	stack stackGuard
	// interrupted is set by Interrupt, from any goroutine; function calls
	// and thunk evaluations check it.
	interrupted atomic.Bool
	// memoryExceeded tells that the interruption is the memory limit's.
	memoryExceeded atomic.Bool
}

// New makes an evaluator.
func New(opts Options) *Eval {
	e := &Eval{
		Options:    opts,
		fset:       lang.NewFileSet(),
		fileCache:  map[string]Value{},
		storeCache: map[string]string{},
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	e.maxCallDepth = opts.MaxCallDepth
	if e.maxCallDepth <= 0 {
		e.maxCallDepth = DefaultMaxCallDepth
	}
	ensureStack(e.maxCallDepth * stackPerLevel)
	if e.MaxMemory > 0 {
		e.watchMemory()
	}
	b := NewAttrsBuilder(len(opts.Builtins) + 1)
	for _, bi := range opts.Builtins {
		name := "__" + bi.Name
		if bi.Global {
			name = bi.Name
		}
		e.globalNames = append(e.globalNames, name)
		e.globals = append(e.globals, bi.Value)
		b.AddString(bi.Name, bi.Value)
	}
	builtinsThunk := &Thunk{}
	b.Add(Intern("builtins"), thunkValue(builtinsThunk))
	e.builtins = b.Value()
	builtinsThunk.val = e.builtins
	e.globalNames = append(e.globalNames, "builtins")
	e.globals = append(e.globals, e.builtins)
	e.baseEnv = lang.NewStaticEnv(nil, e.globalNames)
	return e
}

// FileSet holds every source the evaluator has read.
func (e *Eval) FileSet() *lang.FileSet { return e.fset }

// BuiltinsValue is the builtins set.
func (e *Eval) BuiltinsValue() Value { return e.builtins }

// GlobalNames lists the names bound in the global scope.
func (e *Eval) GlobalNames() []string { return e.globalNames }

// BaseEnv is the static global scope, for parsing with lang.Resolve.
func (e *Eval) BaseEnv() *lang.StaticEnv { return e.baseEnv }

// Lookup returns a global by name (e.g. "derivation").
func (e *Eval) Lookup(name string) (Value, bool) {
	for i, n := range e.globalNames {
		if n == name {
			return e.globals[i], true
		}
	}
	return Value{}, false
}

// StoreDir is the store directory.
func (e *Eval) StoreDir() string {
	if e.Store != nil {
		return e.Store.Dir()
	}
	return "/nix/store"
}

// Parse parses and resolves src; name is the file name shown in messages
// and baseDir resolves relative paths.
func (e *Eval) Parse(name, src, baseDir string, env *lang.StaticEnv) (lang.Expr, error) {
	if env == nil {
		env = e.baseEnv
	}
	warn := func(pos lang.Pos, msg string) {
		fmt.Fprintf(e.Stderr, "warning: at %s: %s\n", e.fset.Position(pos), msg)
	}
	expr, _, err := lang.Parse(e.fset, name, src, lang.Config{BaseDir: baseDir, Home: e.Home, PipeOperators: e.PipeOperators, Warn: warn})
	if err != nil {
		return nil, parseError(err)
	}
	if errs := lang.Resolve(e.fset, expr, env, false); len(errs) > 0 {
		return nil, parseError(errs)
	}
	if err := e.lint(expr); err != nil {
		return nil, err
	}
	return expr, nil
}

func parseError(err error) error {
	if l, ok := err.(lang.ErrorList); ok && len(l) > 0 {
		kind := ErrParse
		if strings.HasPrefix(l[0].Msg, "undefined variable") {
			kind = ErrUndefinedVar
		}
		return &Error{Kind: kind, Msg: l[0].Msg, Pos: l[0].Pos}
	}
	return err
}

// EvalExpr evaluates a parsed expression in the global scope.
func (e *Eval) EvalExpr(x lang.Expr) (Value, error) {
	return e.compile(x).eval(e, nil)
}

// EvalString parses and evaluates src.
func (e *Eval) EvalString(name, src, baseDir string) (Value, error) {
	x, err := e.Parse(name, src, baseDir, nil)
	if err != nil {
		return Value{}, err
	}
	return e.EvalExpr(x)
}

// ReadFile reads a file, internal files included.
func (e *Eval) ReadFile(path string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(path, InternalDir+"/"); ok && e.Internal != nil {
		return fs.ReadFile(e.Internal, rest)
	}
	return os.ReadFile(path)
}

// ResolveImportPath maps an imported path to the file to read: a
// directory means its default.nix.
func ResolveImportPath(path string) (string, error) {
	if strings.HasPrefix(path, InternalDir+"/") {
		return path, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return filepath.Join(path, "default.nix"), nil
	}
	return path, nil
}

// EvalFile evaluates the file at path (import semantics: cached).
func (e *Eval) EvalFile(path string, pos lang.Pos) (Value, error) {
	if err := e.CheckPath(path); err != nil {
		return Value{}, withPos(err, pos)
	}
	resolved, err := ResolveImportPath(path)
	if err != nil {
		return Value{}, e.fileError(path, err, pos)
	}
	if v, ok := e.fileCache[resolved]; ok {
		return v, nil
	}
	x, err := e.parseFile(resolved, pos, nil)
	if err != nil {
		return Value{}, err
	}
	v, err := e.compile(x).eval(e, nil)
	if err != nil {
		return Value{}, err
	}
	e.fileCache[resolved] = v
	return v, nil
}

// EvalFileInScope evaluates a file with extra variables in scope (the
// scopedImport builtin); the result is not cached.
func (e *Eval) EvalFileInScope(path string, scope Attrs, pos lang.Pos) (Value, error) {
	if err := e.CheckPath(path); err != nil {
		return Value{}, withPos(err, pos)
	}
	resolved, err := ResolveImportPath(path)
	if err != nil {
		return Value{}, e.fileError(path, err, pos)
	}
	names := make([]string, len(scope))
	env := newEnv(nil, len(scope))
	for i, a := range scope {
		names[i] = a.Name.String()
		env.vals()[i] = a.Value
	}
	x, err := e.parseFile(resolved, pos, lang.NewStaticEnv(e.baseEnv, names))
	if err != nil {
		return Value{}, err
	}
	return e.compile(x).eval(e, env)
}

func (e *Eval) parseFile(path string, pos lang.Pos, env *lang.StaticEnv) (lang.Expr, error) {
	src, err := e.ReadFile(path)
	if err != nil {
		return nil, e.fileError(path, err, pos)
	}
	return e.Parse(path, string(src), filepath.Dir(path), env)
}

func (e *Eval) fileError(path string, err error, pos lang.Pos) error {
	if os.IsNotExist(err) {
		return Errorf(ErrEval, pos, "path '%s' does not exist", path)
	}
	if pe, ok := err.(*os.PathError); ok {
		return Errorf(ErrEval, pos, "cannot read '%s': %s", path, pe.Err)
	}
	return Errorf(ErrEval, pos, "cannot read '%s': %v", path, err)
}

// CopyPathToStore copies a path literal's file into the store (once per
// path) and returns the store path.
func (e *Eval) CopyPathToStore(path string, pos lang.Pos) (string, error) {
	if p, ok := e.storeCache[path]; ok {
		return p, nil
	}
	if e.Store == nil {
		return "", Errorf(ErrEval, pos, "cannot copy '%s' to the store: no store", path)
	}
	if strings.HasPrefix(path, e.Store.Dir()+"/") {
		// Already in the store: the path itself (its top store path).
		return path, nil
	}
	if err := e.CheckPath(path); err != nil {
		return "", withPos(err, pos)
	}
	if _, err := os.Lstat(path); err != nil {
		return "", Errorf(ErrEval, lang.NoPos, "path '%s' does not exist", path)
	}
	p, err := e.Store.AddPath(BaseName(path), path, true, nil)
	if err != nil {
		return "", Errorf(ErrEval, pos, "%v", err)
	}
	e.storeCache[path] = p
	return p, nil
}

// BaseName is the last component of a path (Nix's baseNameOf rules).
func BaseName(p string) string {
	p = strings.TrimSuffix(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// PosValue is the value of __curPos and unsafeGetAttrPos: { file, line,
// column }, or null for no position.
func (e *Eval) PosValue(pos lang.Pos) Value {
	posn := e.fset.Position(pos)
	if !posn.IsValid() {
		return Null
	}
	b := NewAttrsBuilder(3)
	b.Add(symFile, String(posn.Filename))
	b.Add(symLine, Int(int64(posn.Line)))
	b.Add(symColumn, Int(int64(posn.Col)))
	return b.Value()
}

// Warn prints a warning the way Nix does.
func (e *Eval) Warn(msg string) {
	fmt.Fprintf(e.Stderr, "warning: %s\n", msg)
}

// EvalWarning prints a warning raised by the evaluated code
// (builtins.warn): "evaluation warning: " with the message's later lines
// aligned under its first.
func (e *Eval) EvalWarning(msg string) {
	const prefix = "evaluation warning: "
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	if lines[0] == "" {
		fmt.Fprintf(e.Stderr, "%s\n%s\n", strings.TrimRight(prefix, " "), strings.Join(lines[1:], "\n"))
		return
	}
	fmt.Fprintf(e.Stderr, "%s%s\n", prefix, strings.Join(lines, "\n"+strings.Repeat(" ", len(prefix))))
}

// Interrupt makes the evaluation running on this evaluator (from any
// goroutine, e.g. a signal handler or a timer) fail with an
// ErrInterrupted error at its next function call or thunk evaluation.
// The evaluator stays interrupted, so that a new evaluation fails too,
// until ClearInterrupt. Thunks left unfinished by an interruption are
// evaluated again when next forced.
func (e *Eval) Interrupt() { e.interrupted.Store(true) }

// ClearInterrupt lets evaluation run again after Interrupt.
func (e *Eval) ClearInterrupt() {
	e.memoryExceeded.Store(false)
	e.interrupted.Store(false)
}

// Interrupted reports whether Interrupt was called since the last
// ClearInterrupt.
func (e *Eval) Interrupted() bool { return e.interrupted.Load() }

// errInterrupted is the error an interrupted evaluation returns; out of
// line, to keep the frames of the callers on the recursion path small.
//
//go:noinline
func (e *Eval) errInterrupted(pos lang.Pos) error {
	if e.memoryExceeded.Load() {
		return e.errMemoryLimit(pos)
	}
	return Errorf(ErrInterrupted, pos, "interrupted by the user")
}

// Render formats an error for the user, with its trace.
func (e *Eval) Render(err error) string {
	if ee, ok := err.(*Error); ok {
		return ee.Diagnostic().Render(e.fset, e.ShowTrace)
	}
	return "error: " + err.Error() + "\n"
}

var stackMu sync.Mutex
var stackLimit = defaultMaxStack

// ensureStack raises the goroutine stack limit to at least n bytes.
func ensureStack(n int) {
	stackMu.Lock()
	defer stackMu.Unlock()
	if n > stackLimit {
		debug.SetMaxStack(n)
		stackLimit = n
	}
}
