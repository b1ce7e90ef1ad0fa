package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/realise/build"
	"github.com/nixl-project/nixl/realise/evalstore"
	"github.com/nixl-project/nixl/realise/sandbox"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	// The build sandbox re-executes this binary as its init process
	// (nixl __sandbox-init SPEC): that never returns.
	sandbox.MaybeInit()
	register(&command{name: "build", summary: "build derivations and link their outputs (nix-build)", run: func(c *cli, args []string) int {
		return c.build(args)
	}})
}

// writeStore is the evaluation store of nixl instantiate and nixl build:
// it computes paths as computeStore does, and writes what it computes
// (sources, texts, .drv files) into the local store. It realises
// derivation outputs for import from derivation with its builder.
type writeStore struct {
	*computeStore
	opts storeOpts

	openOnce sync.Once
	open     func() (*local.Store, error)
	ls       *local.Store
	openErr  error

	mu      sync.Mutex
	builder *build.Builder
	ctx     context.Context
}

var (
	_ eval.Store               = (*writeStore)(nil)
	_ builtins.DerivationStore = (*writeStore)(nil)
	_ builtins.Realiser        = (*writeStore)(nil)
)

// writeStores maps the flags of commands that write to the store to the
// store they opened, so that openEvalStore (called by newEvaluator)
// gives the evaluator that store.
var writeStores sync.Map // *evalFlags -> *writeStore

// writableStoreFor returns the write store registered for f, if any.
func writableStoreFor(f *evalFlags) (eval.Store, bool) {
	if s, ok := writeStores.Load(f); ok {
		return s.(*writeStore), true
	}
	return nil, false
}

// openWriteStore prepares the local store (--store-dir, --state-dir,
// else $NIXL_STORE_DIR/$NIXL_STATE_DIR, else the per-user store) and
// registers it as the evaluation store of f. The store is opened on first
// use, so an evaluation that fails before writing anything reports its
// own error, as nix-instantiate's does.
func (c *cli) openWriteStore(f *evalFlags, stateDir string) (*writeStore, error) {
	o := storeOpts{storeDir: f.storeDir, stateDir: stateDir}
	dir := o.storeDir
	if dir == "" {
		defStore, _, err := local.DefaultDirs()
		if err != nil {
			return nil, err
		}
		dir = defStore
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := store.Dir(dir).Validate(); err != nil {
		return nil, err
	}
	ws := &writeStore{computeStore: newComputeStore(store.Dir(dir)), opts: o, ctx: context.Background()}
	ws.open = func() (*local.Store, error) {
		ws.openOnce.Do(func() { ws.ls, ws.openErr = c.openLocalStore(&ws.opts) })
		return ws.ls, ws.openErr
	}
	writeStores.Store(f, ws)
	return ws, nil
}

func (s *writeStore) close(f *evalFlags) {
	writeStores.Delete(f)
	if s.ls != nil {
		s.ls.Close()
	}
}

func (s *writeStore) AddPath(name, src string, recursive bool, filter eval.PathFilter) (string, error) {
	if _, err := os.Lstat(src); err != nil {
		return "", describeStoreFileError(err)
	}
	ls, err := s.open()
	if err != nil {
		return "", err
	}
	return ls.AddPath(name, src, recursive, filter)
}

func describeStoreFileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("path '%s' does not exist", pe.Path)
	}
	return err
}

func (s *writeStore) AddText(name, text string, refs []string) (string, error) {
	ls, err := s.open()
	if err != nil {
		return "", err
	}
	return ls.AddText(name, text, refs)
}

func (s *writeStore) AddDerivation(d *builtins.Derivation) (string, error) {
	sd := evalstore.ToSorted(d)
	drvPath, err := s.CS.AddSorted(sd)
	if err != nil {
		return "", err
	}
	ls, err := s.open()
	if err != nil {
		return "", err
	}
	// sd's lists are reused once this returns: the local store writes
	// the derivation and keeps nothing of it.
	written, err := ls.AddDerivation(sd.Derivation())
	if err != nil {
		return "", err
	}
	if written != drvPath {
		return "", fmt.Errorf("internal error: derivation '%s' was written as '%s'", drvPath, written)
	}
	evalstore.SetComputed(d, sd)
	return drvPath, nil
}

func (s *writeStore) IsValidPath(path string) bool {
	ls, err := s.open()
	if err != nil {
		return false
	}
	ok, err := ls.IsValidPath(path)
	return err == nil && ok
}

func (s *writeStore) QueryReferences(path string) ([]string, error) {
	ls, err := s.open()
	if err != nil {
		return nil, err
	}
	return ls.QueryReferences(path)
}

// RealiseOutputs builds outputs during evaluation (import from
// derivation).
func (s *writeStore) RealiseOutputs(drvPath string, outputs []string) error {
	s.mu.Lock()
	b, ctx := s.builder, s.ctx
	s.mu.Unlock()
	if b == nil {
		ls, err := s.open()
		if err != nil {
			return err
		}
		b = build.New(ls, build.Options{})
	}
	_, err := b.Build(ctx, []build.Target{{DrvPath: drvPath, Outputs: outputs}})
	return err
}

func (s *writeStore) setBuilder(ctx context.Context, b *build.Builder) {
	s.mu.Lock()
	s.builder, s.ctx = b, ctx
	s.mu.Unlock()
}

// drvTarget is a derivation found in the value of an expression, with the
// output it selects.
type drvTarget struct {
	drvPath string
	output  string
}

// collectDerivations finds the derivations in v as nix-instantiate and
// nix-build do (Nix's getDerivations): v itself, the derivations among a
// set's attributes (sorted by name; nested sets when they have
// recurseForDerivations = true) or a list's elements (recursively).
// Evaluating drvPath writes each .drv file into the store.
func collectDerivations(e *eval.Eval, v eval.Value, autoArgs eval.Attrs) ([]drvTarget, error) {
	var out []drvTarget
	var visit func(v eval.Value, top bool) error
	isDrv := func(v eval.Value) (bool, error) {
		if v.Kind() != eval.KindAttrs {
			return false, nil
		}
		t := v.AttrsValue().Get(eval.Intern("type"))
		if t == nil {
			return false, nil
		}
		tv := t.Value
		if err := e.Force(&tv); err != nil {
			return false, err
		}
		return tv.Kind() == eval.KindString && tv.Str() == "derivation", nil
	}
	getString := func(v eval.Value, name string) (string, bool, error) {
		a := v.AttrsValue().Get(eval.Intern(name))
		if a == nil {
			return "", false, nil
		}
		s, _, err := e.CoerceToString(a.Value, lang.NoPos, eval.CoerceOptions{}, "while evaluating the '"+name+"' attribute of a derivation")
		return s, true, err
	}
	addDrv := func(v eval.Value) error {
		drvPath, ok, err := getString(v, "drvPath")
		if err != nil {
			return err
		}
		if !ok {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "derivation does not have a 'drvPath' attribute")
		}
		output, ok, err := getString(v, "outputName")
		if err != nil {
			return err
		}
		if !ok || output == "" {
			output = "out"
		}
		out = append(out, drvTarget{drvPath: drvPath, output: output})
		return nil
	}
	visit = func(v eval.Value, top bool) error {
		if top {
			var err error
			if v, err = autoCall(e, autoArgs, v); err != nil {
				return err
			}
		}
		if err := e.Force(&v); err != nil {
			return err
		}
		if ok, err := isDrv(v); err != nil {
			return err
		} else if ok {
			return addDrv(v)
		}
		switch v.Kind() {
		case eval.KindAttrs:
			attrs := v.AttrsValue()
			if !top {
				r := attrs.Get(eval.Intern("recurseForDerivations"))
				if r == nil {
					return nil
				}
				rv := r.Value
				if err := e.Force(&rv); err != nil {
					return err
				}
				if rv.Kind() != eval.KindBool || !rv.BoolValue() {
					return nil
				}
			}
			names := make([]string, 0, len(attrs))
			byName := map[string]eval.Value{}
			for _, a := range attrs {
				names = append(names, a.Name.String())
				byName[a.Name.String()] = a.Value
			}
			sort.Strings(names)
			for _, n := range names {
				if n == "recurseForDerivations" {
					continue
				}
				x := byName[n]
				if err := e.Force(&x); err != nil {
					return err
				}
				if ok, err := isDrv(x); err != nil {
					return err
				} else if ok {
					if err := addDrv(x); err != nil {
						return err
					}
				} else if x.Kind() == eval.KindAttrs {
					if err := visit(x, false); err != nil {
						return err
					}
				}
			}
		case eval.KindList:
			for _, x := range v.ListValue() {
				if err := e.Force(&x); err != nil {
					return err
				}
				if ok, err := isDrv(x); err != nil {
					return err
				} else if ok {
					if err := addDrv(x); err != nil {
						return err
					}
				} else if x.Kind() == eval.KindAttrs || x.Kind() == eval.KindList {
					if err := visit(x, false); err != nil {
						return err
					}
				} else {
					return errNotDerivation()
				}
			}
		default:
			if top {
				return errNotDerivation()
			}
		}
		return nil
	}
	return out, visit(v, true)
}

// instantiateTargets evaluates what the flags name and returns the
// derivations found, their .drv files written.
func (c *cli) instantiateTargets(e *eval.Eval, f *evalFlags, args []string) ([]drvTarget, error) {
	root, err := c.loadRoot(e, f, args)
	if err != nil {
		return nil, err
	}
	autoArgs, err := autoArgsValue(e, f.autoArgs)
	if err != nil {
		return nil, err
	}
	paths := f.attrPaths
	if len(paths) == 0 {
		paths = []string{""}
	}
	var out []drvTarget
	for _, p := range paths {
		v, err := findAlongAttrPath(e, p, autoArgs, root)
		if err != nil {
			return nil, err
		}
		drvs, err := collectDerivations(e, v, autoArgs)
		if err != nil {
			return nil, err
		}
		out = append(out, drvs...)
	}
	return out, nil
}

type buildFlags struct {
	evalFlags
	file           string
	stateDir       string
	outLink        string
	noLink         bool
	jobs           int
	cores          int
	keepGoing      bool
	keepFailed     bool
	printLogs      bool
	check          bool
	dryRun         bool
	sandbox        string
	sandboxPaths   []string
	extraPlatforms []string
	subst          substFlags // substitute.go
}

func (c *cli) build(args []string) int {
	var f buildFlags
	fs := pflag.NewFlagSet("build", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.StringVarP(&f.file, "file", "f", "", "build the expression in `FILE` (the same as giving FILE as an argument)")
	fs.StringVar(&f.stateDir, "state-dir", "", "the state `DIR` of the store (default: $NIXL_STATE_DIR, else the per-user one)")
	fs.StringVarP(&f.outLink, "out-link", "o", "result", "name the result symlinks `LINK`, LINK-OUTPUT, LINK-N…")
	fs.BoolVar(&f.noLink, "no-link", false, "do not create result symlinks")
	f.registerRealise(fs) // substitute.go
	fs.BoolVar(&f.check, "check", false, "rebuild valid outputs and report any difference from the valid ones")
	fs.BoolVar(&f.dryRun, "dry-run", false, "show what would be built, and build nothing")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl build [FLAGS] [FILE | -f FILE | -E EXPR] [-A ATTR]…\n\nBuild the derivations an expression evaluates to, and link their outputs.\n\n%s\nFlags:\n%s", substituteHelp, fs.FlagUsages())
	}
	if rc, stop := c.parseEvalFlags(fs, &f.evalFlags, args); stop {
		return rc
	}
	rest := fs.Args()
	if f.file != "" {
		rest = append([]string{f.file}, rest...)
	}
	if len(rest) > 1 {
		return c.errorf("nixl build takes one file, not %d", len(rest))
	}
	conf := loadConfig()
	opts, err := f.buildOptions(conf)
	if err != nil {
		return c.errorf("%v", err)
	}
	ws, err := c.openWriteStore(&f.evalFlags, f.stateDir)
	if err != nil {
		return c.errorf("%v", err)
	}
	defer ws.close(&f.evalFlags)
	ls, err := ws.open()
	if err != nil {
		return c.errorf("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := newBuildReporter(c.stderr, ls, f.printLogs)
	defer rep.close()
	opts.Reporter = rep
	if opts.Substituter, err = f.subst.substituter(ls, rep); err != nil {
		return c.errorf("%v", err)
	}
	b := build.New(ls, opts)
	if opts.Sandbox == build.SandboxOn && !f.dryRun {
		if err := b.CheckSandbox(); err != nil {
			return c.errorf("%v", err)
		}
	}
	ws.setBuilder(ctx, b)
	e, err := c.newEvaluator(&f.evalFlags)
	if err != nil {
		return c.errorf("%v", err)
	}
	targets, err := c.buildTargets(e, ls, &f.evalFlags, rest)
	if err != nil {
		fmt.Fprint(c.stderr, e.Render(err))
		return 1
	}
	var bt []build.Target
	for _, t := range targets {
		bt = append(bt, build.Target{DrvPath: t.drvPath, Outputs: []string{t.output}})
	}
	if f.dryRun {
		todo, err := b.Plan(bt)
		if err != nil {
			return c.errorf("%v", err)
		}
		if len(todo) > 0 {
			fmt.Fprintf(c.stderr, "%s:\n", plural(len(todo), "this derivation will be built", "these %d derivations will be built"))
			for _, d := range todo {
				fmt.Fprintf(c.stderr, "  %s\n", d)
			}
		}
		return 0
	}
	results, err := b.Build(ctx, bt)
	rep.close()
	if err != nil {
		return c.reportBuildError(ctx, err)
	}
	for i, t := range targets {
		out := results[i][t.output]
		if !f.noLink && !f.check {
			link := f.outLink
			if i > 0 {
				link += fmt.Sprintf("-%d", i)
			}
			if t.output != "out" {
				link += "-" + t.output
			}
			if err := ls.AddRoot(out, link); err != nil {
				return c.errorf("%v", err)
			}
		}
		fmt.Fprintln(c.stdout, out)
	}
	return 0
}

// buildOptions turns the flags (and the settings of $NIX_CONFIG and
// $NIXL_CONFIG: max-jobs, cores, sandbox, sandbox-paths,
// extra-sandbox-paths, extra-platforms, keep-going, keep-failed) into the
// builder's options.
func (f *buildFlags) buildOptions(conf map[string]string) (build.Options, error) {
	opts := build.Options{
		Jobs:       f.jobs,
		Cores:      f.cores,
		KeepGoing:  f.keepGoing || conf["keep-going"] == "true",
		KeepFailed: f.keepFailed || conf["keep-failed"] == "true",
		Check:      f.check,
		System:     f.system,
	}
	if opts.Jobs == 0 {
		if v := conf["max-jobs"]; v == "auto" {
			opts.Jobs = runtime.NumCPU()
		} else if v != "" {
			fmt.Sscan(v, &opts.Jobs)
		}
	}
	if opts.Cores == 0 && conf["cores"] != "" {
		fmt.Sscan(conf["cores"], &opts.Cores)
	}
	mode := f.sandbox
	if mode == "" {
		mode = conf["sandbox"]
	}
	switch mode {
	case "", "on", "true", "1", "yes":
		opts.Sandbox = build.SandboxOn
	case "off", "false", "0", "no":
		opts.Sandbox = build.SandboxOff
	default:
		return opts, fmt.Errorf("invalid --sandbox value '%s' (on or off)", mode)
	}
	if f.sandboxPaths != nil {
		for _, p := range f.sandboxPaths {
			opts.SandboxPaths = append(opts.SandboxPaths, strings.Fields(p)...)
		}
	} else if v, ok := conf["sandbox-paths"]; ok {
		opts.SandboxPaths = append([]string{}, strings.Fields(v)...)
	}
	if extra := strings.Fields(conf["extra-sandbox-paths"]); len(extra) > 0 {
		if opts.SandboxPaths == nil {
			opts.SandboxPaths = sandbox.DefaultPaths()
		}
		opts.SandboxPaths = append(opts.SandboxPaths, extra...)
	}
	for _, p := range append(strings.Fields(conf["extra-platforms"]), f.extraPlatforms...) {
		opts.ExtraPlatforms = append(opts.ExtraPlatforms, strings.Fields(strings.ReplaceAll(p, ",", " "))...)
	}
	return opts, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}
