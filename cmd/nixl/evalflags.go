package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// evalFlags are the flags every evaluating command shares, named as in
// nix-instantiate.
type evalFlags struct {
	includes      []string
	autoArgs      []autoArg
	showTrace     bool
	noShowTrace   bool
	pureEval      bool
	impure        bool
	storeDir      string
	maxCallDepth  int
	maxMemory     string
	lintAbsolute  string
	lintShort     string
	lintURL       string
	features      []string
	traceVerbose  bool
	abortOnWarn   bool
	expr          string
	exprSet       bool
	attrPaths     []string
	system        string
	pipeOperators bool
}

// autoArg is --arg NAME EXPR or --argstr NAME VALUE.
type autoArg struct {
	name  string
	value string
	isStr bool
}

func (f *evalFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.includes, "include", "I", nil, "add `PATH` (or PREFIX=PATH) to the search path for <…> lookups")
	fs.BoolVar(&f.showTrace, "show-trace", false, "show the full trace of an evaluation error")
	fs.BoolVar(&f.noShowTrace, "no-show-trace", false, "show only the start of an error's trace")
	fs.BoolVar(&f.pureEval, "pure-eval", false, "forbid impure operations (getEnv, currentTime, reading files outside the named file's directory and the -I entries)")
	fs.BoolVar(&f.impure, "impure", false, "allow impure operations (the default)")
	fs.StringVar(&f.storeDir, "store-dir", "", "the store `DIR` (default: $NIXL_STORE_DIR, else the per-user store)")
	fs.IntVar(&f.maxCallDepth, "max-call-depth", 0, "fail when function calls nest deeper than `N`")
	fs.StringVar(&f.maxMemory, "max-memory", "", "fail when evaluation uses more than `SIZE` of memory (e.g. 4G, 512M; default: no limit)")
	fs.StringVar(&f.lintAbsolute, "lint-absolute-path-literals", "", "`LEVEL` (ignore, warn, fatal) for /… and ~/… path literals")
	fs.StringVar(&f.lintShort, "lint-short-path-literals", "", "`LEVEL` (ignore, warn, fatal) for a/b path literals without ./")
	fs.StringVar(&f.lintURL, "lint-url-literals", "", "`LEVEL` (ignore, warn, fatal) for unquoted URL literals")
	fs.StringArrayVar(&f.features, "extra-experimental-features", nil, "enable experimental `FEATURES` (pipe-operators, parse-toml-timestamps)")
	fs.BoolVar(&f.traceVerbose, "trace-verbose", false, "let builtins.traceVerbose print")
	fs.BoolVar(&f.abortOnWarn, "abort-on-warn", false, "make builtins.warn an error")
	fs.StringVarP(&f.expr, "expr", "E", "", "evaluate the expression `EXPR` instead of a file")
	fs.StringArrayVarP(&f.attrPaths, "attr", "A", nil, "select the attribute `PATH` (a.b.c) of the result")
	fs.StringVar(&f.system, "system", "", "the platform `SYSTEM` (builtins.currentSystem)")
}

// takeAutoArgs removes --arg NAME EXPR and --argstr NAME VALUE (which
// take two values, beyond what pflag can express) from args.
// parseEvalFlags parses the flags of a command that evaluates: the
// --arg and --argstr pairs first (pflag cannot take two values), then the
// rest, noting whether -E was given. stop says the command is done, with
// exit code rc (after --help or a bad flag).
func (c *cli) parseEvalFlags(fs *pflag.FlagSet, f *evalFlags, args []string) (rc int, stop bool) {
	args, err := f.takeAutoArgs(args)
	if err != nil {
		return c.errorf("%v", err), true
	}
	if rc, stop := c.parseFlags(fs, args); stop {
		return rc, true
	}
	f.exprSet = fs.Changed("expr")
	return 0, false
}

func (f *evalFlags) takeAutoArgs(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if a == "--arg" || a == "--argstr" {
			if i+2 >= len(args) {
				return nil, fmt.Errorf("flag '%s' requires two arguments", a)
			}
			f.autoArgs = append(f.autoArgs, autoArg{name: args[i+1], value: args[i+2], isStr: a == "--argstr"})
			i += 2
			continue
		}
		rest = append(rest, a)
	}
	return rest, nil
}

// currentSystem names the platform in Nix's terms.
func currentSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

// searchPath assembles the search path: -I entries, then NIXL_PATH, then
// NIX_PATH.
func (f *evalFlags) searchPath() []eval.SearchPathEntry {
	var out []eval.SearchPathEntry
	add := func(s string) {
		if s == "" {
			return
		}
		if i := strings.IndexByte(s, '='); i >= 0 {
			out = append(out, eval.SearchPathEntry{Prefix: s[:i], Path: s[i+1:]})
		} else {
			out = append(out, eval.SearchPathEntry{Path: s})
		}
	}
	for _, inc := range f.includes {
		add(inc)
	}
	for _, env := range []string{"NIXL_PATH", "NIX_PATH"} {
		for _, s := range strings.Split(os.Getenv(env), ":") {
			add(s)
		}
	}
	return out
}

func (f *evalFlags) featureSet() map[string]bool {
	m := map[string]bool{}
	for _, s := range f.features {
		for _, x := range strings.Fields(s) {
			m[x] = true
		}
	}
	return m
}

// newEvaluator makes an evaluator configured by the flags.
func (c *cli) newEvaluator(f *evalFlags) (*eval.Eval, error) {
	var lints eval.Lints
	var err error
	if lints.AbsolutePath, err = eval.ParseLintLevel(f.lintAbsolute); err != nil {
		return nil, err
	}
	if lints.ShortPath, err = eval.ParseLintLevel(f.lintShort); err != nil {
		return nil, err
	}
	if lints.URL, err = eval.ParseLintLevel(f.lintURL); err != nil {
		return nil, err
	}
	var maxMemory uint64
	if f.maxMemory != "" {
		if maxMemory, err = parseMemorySize(f.maxMemory); err != nil {
			return nil, err
		}
		setMemoryLimit(maxMemory)
	}
	st, err := openEvalStore(f)
	if err != nil {
		return nil, err
	}
	system := f.system
	if system == "" {
		system = currentSystem()
	}
	sp := f.searchPath()
	features := f.featureSet()
	conf := loadConfig()
	for _, x := range strings.Fields(conf["experimental-features"] + " " + conf["extra-experimental-features"]) {
		features[x] = true
	}
	showTrace := (f.showTrace || conf["show-trace"] == "true") && !f.noShowTrace
	cfg := &builtins.Config{
		System:      system,
		CurrentTime: time.Now().Unix(),
		NixVersion:  builtins.NixVersion,
		StoreDir:    st.Dir(),
		SearchPath:  sp,
	}
	e := eval.New(eval.Options{
		Store:         st,
		SearchPath:    sp,
		PureEval:      f.pureEval && !f.impure,
		MaxCallDepth:  f.maxCallDepth,
		MaxMemory:     maxMemory,
		ShowTrace:     showTrace,
		Stderr:        c.stderr,
		Home:          os.Getenv("HOME"),
		System:        system,
		Builtins:      builtins.Builtins(cfg),
		Lints:         lints,
		PipeOperators: features["pipe-operators"],
		AbortOnWarn:   f.abortOnWarn,
		TraceVerbose:  f.traceVerbose,
		Features:      features,
		Internal:      builtins.CorePkgs(),
	})
	return e, nil
}

// autoArgsValue evaluates the --arg/--argstr values into a set.
func autoArgsValue(e *eval.Eval, args []autoArg) (eval.Attrs, error) {
	b := eval.NewAttrsBuilder(len(args))
	cwd, _ := os.Getwd()
	for _, a := range args {
		if a.isStr {
			b.AddString(a.name, eval.String(a.value))
			continue
		}
		x, err := e.Parse("«string»", a.value, cwd, nil)
		if err != nil {
			return nil, err
		}
		v := eval.NewThunk(func() (eval.Value, error) { return e.EvalExpr(x) })
		b.AddString(a.name, v)
	}
	return b.Value().AttrsValue(), nil
}

// loadRoot evaluates what the command line names: -E EXPR, a file, or
// standard input ("-").
func (c *cli) loadRoot(e *eval.Eval, f *evalFlags, args []string) (eval.Value, error) {
	cwd, _ := os.Getwd()
	if f.exprSet {
		return e.EvalString("«string»", f.expr, cwd)
	}
	file := "default.nix"
	if len(args) > 0 {
		file = args[0]
	}
	if file == "-" {
		src, err := readAll(c.stdin)
		if err != nil {
			return eval.Value{}, err
		}
		return e.EvalString("«stdin»", src, cwd)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return eval.Value{}, err
	}
	allowMainFile(e, abs)
	return e.EvalFile(abs, lang.NoPos)
}

// loadConfig reads settings in nix.conf syntax ("name = value" lines)
// from $NIX_CONFIG and then $NIXL_CONFIG, as Nix reads NIX_CONFIG.
func loadConfig() map[string]string {
	conf := map[string]string{}
	for _, env := range []string{"NIX_CONFIG", "NIXL_CONFIG"} {
		for _, line := range strings.Split(os.Getenv(env), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			name, value, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			conf[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	return conf
}
