package build

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// SandboxMode says whether builders run in a sandbox.
type SandboxMode int

const (
	// SandboxOn runs every builder (except builtin ones) in a sandbox and
	// fails when the system cannot create one.
	SandboxOn SandboxMode = iota
	// SandboxOff runs builders directly on the host, with a private
	// build directory, as Nix does with sandbox = false.
	SandboxOff
)

// Options configure a Builder.
type Options struct {
	// Jobs is how many builds run at once (default: the number of CPUs).
	Jobs int
	// Cores is NIX_BUILD_CORES, the parallelism offered to each builder
	// (default: the number of CPUs).
	Cores int
	// KeepGoing continues with the builds that do not depend on a failed
	// one; otherwise the first failure stops everything.
	KeepGoing bool
	// KeepFailed keeps the build directory of failed builds.
	KeepFailed bool
	// Check rebuilds the targets even though their outputs are valid and
	// compares the results with them.
	Check bool
	// Repair rebuilds the targets like Check, and then replaces those of
	// their valid outputs whose contents no longer match their
	// registration (modified or missing) with the rebuilt ones, updating
	// the registration; intact outputs are left alone (see repair.go).
	Repair bool
	// Sandbox selects sandboxed or direct builds.
	Sandbox SandboxMode
	// SandboxPaths are the host paths made visible in the sandbox
	// (sandbox.PathMounts syntax); nil means sandbox.DefaultPaths().
	SandboxPaths []string
	// System is the platform builds run on (default: the host's);
	// ExtraPlatforms are others it can run (i686-linux on x86_64-linux…).
	System         string
	ExtraPlatforms []string
	// Reporter is told about progress; it may be nil.
	Reporter Reporter
	// LogLines is how many of the last log lines a failure shows
	// (default 25).
	LogLines int
	// Substituter, if set, is asked for missing outputs before anything
	// is built (see substitute.go); nil builds everything.
	Substituter Substituter
}

// Reporter receives progress events; its methods may be called from
// several goroutines at once.
type Reporter interface {
	// Planned is called once with the derivations that will be built.
	Planned(drvPaths []string)
	// Started is called when a build begins (after its locks are taken).
	Started(drvPath string)
	// Line is called for each line the builder logs.
	Line(drvPath, line string)
	// Finished is called when a build ends; err is nil on success.
	Finished(drvPath string, err error)
}

// Target is a derivation to realise.
type Target struct {
	DrvPath string
	// Outputs are the outputs wanted; empty means all.
	Outputs []string
}

// Builder builds derivations into a local store. Its methods are safe for
// concurrent use.
type Builder struct {
	store *local.Store
	opts  Options
	dir   store.Dir

	sandboxOnce  sync.Once
	sandboxErr   error
	sandboxPaths []sandboxMount
}

// New returns a Builder for s.
func New(s *local.Store, opts Options) *Builder {
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.Cores <= 0 {
		opts.Cores = runtime.NumCPU()
	}
	if opts.System == "" {
		opts.System = HostSystem()
	}
	if opts.LogLines <= 0 {
		opts.LogLines = 25
	}
	return &Builder{store: s, opts: opts, dir: s.StoreDir()}
}

// HostSystem names the running platform as Nix does ("x86_64-linux").
func HostSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

// node is one derivation of the build graph.
type node struct {
	drvPath string
	drv     *derivation.Derivation
	name    string
	check   bool    // rebuild although valid (--check on a target)
	deps    []*node // input derivations that are built first
	users   []*node // derivations waiting for this one
	pending int     // deps not finished yet
	err     error
	done    bool
}

// plan holds the nodes that must be built.
type plan struct {
	nodes map[string]*node
	order []*node // in discovery order (dependencies after dependents)
}

// needsBuild loads drvPath and reports whether some output is invalid.
func (b *Builder) outputsValid(drv *derivation.Derivation) (bool, error) {
	for _, name := range drv.OutputNames() {
		p := drv.Outputs[name].Path
		if p == "" {
			return false, fmt.Errorf("derivation '%s' has output '%s' without a known path (content-addressed derivations are not supported)", drv.Name, name)
		}
		ok, err := b.store.IsValidPath(p)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// makePlan finds the derivations that must be built for targets: those
// with an invalid output (or, with Check, the targets), and recursively
// their inputs that need building. The inputs of derivations whose
// outputs are valid are never looked at.
func (b *Builder) makePlan(targets []Target) (*plan, map[string]*derivation.Derivation, error) {
	p := &plan{nodes: map[string]*node{}}
	drvs := map[string]*derivation.Derivation{}
	var visit func(drvPath string, check bool) (*node, error)
	visit = func(drvPath string, check bool) (*node, error) {
		if n, ok := p.nodes[drvPath]; ok {
			n.check = n.check || check
			return n, nil
		}
		drv, ok := drvs[drvPath]
		if !ok {
			var err error
			if drv, err = b.store.ReadDerivation(drvPath); err != nil {
				return nil, err
			}
			drvs[drvPath] = drv
		}
		valid, err := b.outputsValid(drv)
		if err != nil {
			return nil, err
		}
		if valid && !check {
			return nil, nil
		}
		if check && !valid {
			return nil, fmt.Errorf("some outputs of '%s' are not valid, so checking is not possible", drvPath)
		}
		n := &node{drvPath: drvPath, drv: drv, name: drv.Name, check: check}
		p.nodes[drvPath] = n
		p.order = append(p.order, n)
		if check && !b.opts.Repair {
			return n, nil // the inputs of a valid derivation are valid
		}
		for _, in := range sortedKeys(drv.InputDrvs) {
			dep, err := visit(in, false)
			if err != nil {
				return nil, err
			}
			if dep != nil && !slices.Contains(n.deps, dep) {
				n.deps = append(n.deps, dep)
				dep.users = append(dep.users, n)
			}
		}
		for _, src := range drv.InputSrcs {
			if ok, err := b.store.IsValidPath(src); err != nil {
				return nil, err
			} else if !ok {
				return nil, fmt.Errorf("input '%s' of '%s' is not valid (and cannot be substituted)", src, drvPath)
			}
		}
		return n, nil
	}
	for _, t := range targets {
		if _, err := visit(t.DrvPath, b.opts.Check || b.opts.Repair); err != nil {
			return nil, nil, err
		}
	}
	return p, drvs, nil
}

// Plan returns the derivations that Build would build for targets, in
// an order where inputs come first.
func (b *Builder) Plan(targets []Target) ([]string, error) {
	p, _, err := b.makePlan(targets)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(p.order) - 1; i >= 0; i-- {
		out = append(out, p.order[i].drvPath)
	}
	return out, nil
}

// Build realises targets: it substitutes what the Substituter (if any)
// can supply, then builds, in dependency order and up to Jobs at a time,
// the derivations whose outputs are not valid yet, and returns the
// output paths of each target (by output name). When builds fail the
// error is a *Error listing them.
func (b *Builder) Build(ctx context.Context, targets []Target) ([]map[string]string, error) {
	if err := b.substitute(ctx, targets); err != nil {
		return nil, err
	}
	p, drvs, err := b.makePlan(targets)
	if err != nil {
		return nil, err
	}
	if len(p.nodes) > 0 {
		if err := b.run(ctx, p); err != nil {
			return nil, err
		}
	}
	results := make([]map[string]string, len(targets))
	for i, t := range targets {
		drv := drvs[t.DrvPath]
		out := map[string]string{}
		names := t.Outputs
		if len(names) == 0 {
			names = drv.OutputNames()
		}
		for _, name := range names {
			o, ok := drv.Outputs[name]
			if !ok {
				return nil, fmt.Errorf("derivation '%s' does not have an output named '%s'", t.DrvPath, name)
			}
			out[name] = o.Path
		}
		results[i] = out
	}
	return results, nil
}

// Error reports failed builds.
type Error struct {
	// Failures are the builds that failed, each a *BuildFailure or another
	// error, in the order they failed.
	Failures []error
	// DependencyFailures counts the derivations not built because an
	// input failed.
	DependencyFailures int
}

func (e *Error) Error() string {
	if len(e.Failures) == 1 {
		return e.Failures[0].Error()
	}
	var drvs []string
	for _, f := range e.Failures {
		var bf *Failure
		if errors.As(f, &bf) {
			drvs = append(drvs, "'"+bf.DrvPath+"'")
		}
	}
	if len(drvs) == 0 {
		return errors.Join(e.Failures...).Error()
	}
	return "build of " + strings.Join(drvs, ", ") + " failed"
}

// Failure is the failure of one derivation's build.
type Failure struct {
	DrvPath string
	Msg     string
}

func (f *Failure) Error() string { return f.Msg }

type noReporter struct{}

func (noReporter) Planned([]string)       {}
func (noReporter) Started(string)         {}
func (noReporter) Line(string, string)    {}
func (noReporter) Finished(string, error) {}

func (b *Builder) reporter() Reporter {
	if b.opts.Reporter == nil {
		return noReporter{}
	}
	return b.opts.Reporter
}

// run is the scheduler: it starts the nodes whose inputs are done, at
// most Jobs at a time, and on a failure either stops starting new builds
// and cancels the running ones, or (KeepGoing) only skips the failed
// node's dependents.
func (b *Builder) run(parent context.Context, p *plan) error {
	rep := b.reporter()
	planned := make([]string, 0, len(p.order))
	for i := len(p.order) - 1; i >= 0; i-- {
		planned = append(planned, p.order[i].drvPath)
	}
	rep.Planned(planned)
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var ready []*node
	for i := len(p.order) - 1; i >= 0; i-- {
		n := p.order[i]
		n.pending = len(n.deps)
		if n.pending == 0 {
			ready = append(ready, n)
		}
	}
	finished := make(chan *node)
	running := 0
	stopping := false
	bErr := &Error{}
	var failDependents func(n *node)
	failDependents = func(n *node) {
		for _, u := range n.users {
			if u.done {
				continue
			}
			u.done = true
			u.err = fmt.Errorf("dependency '%s' of '%s' failed", n.drvPath, u.drvPath)
			bErr.DependencyFailures++
			failDependents(u)
		}
	}
	for {
		for !stopping && running < b.opts.Jobs && len(ready) > 0 {
			n := ready[0]
			ready = ready[1:]
			if n.done {
				continue
			}
			running++
			go func() {
				n.err = b.buildNode(ctx, n)
				finished <- n
			}()
		}
		if running == 0 {
			break
		}
		n := <-finished
		running--
		n.done = true
		if n.err != nil {
			if ctx.Err() == nil || !stopping {
				bErr.Failures = append(bErr.Failures, n.err)
			}
			failDependents(n)
			if !b.opts.KeepGoing && !stopping {
				stopping = true
				cancel()
			}
			continue
		}
		for _, u := range n.users {
			u.pending--
			if u.pending == 0 && !u.done {
				ready = append(ready, u)
			}
		}
	}
	if err := parent.Err(); err != nil {
		return err
	}
	if len(bErr.Failures) > 0 {
		return bErr
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
