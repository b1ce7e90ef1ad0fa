package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// fakeSubstituter "has" the paths in has: substituting one writes a file
// saying so and registers it. Paths in broken are offered but fail.
type fakeSubstituter struct {
	st     *local.Store
	has    map[string]bool
	broken map[string]bool

	mu          sync.Mutex
	queried     []string
	substituted []string
}

func (f *fakeSubstituter) Substitutable(ctx context.Context, paths []string) (map[string]bool, []error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queried = append(f.queried, paths...)
	found := map[string]bool{}
	var problems []error
	for _, p := range paths {
		if f.has[p] || f.broken[p] {
			found[p] = true
		} else {
			problems = append(problems, fmt.Errorf("no '%s' here", p))
		}
	}
	return found, problems, nil
}

func (f *fakeSubstituter) Substitute(ctx context.Context, paths []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, p := range paths {
		if f.broken[p] {
			errs = append(errs, fmt.Errorf("cannot substitute '%s': hash mismatch", p))
			continue
		}
		if !f.has[p] {
			errs = append(errs, fmt.Errorf("path '%s' is not available", p))
			continue
		}
		unlock, err := f.st.LockPaths([]string{p})
		if err != nil {
			return err
		}
		err = os.WriteFile(p, []byte("substituted\n"), 0o444)
		if err == nil {
			err = local.Canonicalise(p)
		}
		var h nixhash.Hash
		var size int64
		if err == nil {
			h, size, err = store.HashPath(nixhash.SHA256, p, nil)
		}
		if err == nil {
			err = f.st.RegisterValidPaths([]*local.PathInfo{{Path: p, NarHash: h, NarSize: size}})
		}
		unlock()
		if err != nil {
			return err
		}
		f.substituted = append(f.substituted, p)
	}
	return errors.Join(errs...)
}

// substRecorder records builds and substitution reports.
type substRecorder struct {
	funcReporter
	mu       sync.Mutex
	started  []string
	will     []string
	problems []string
	failed   []string
}

func newSubstRecorder() *substRecorder {
	r := &substRecorder{}
	r.funcReporter.started = func(d string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.started = append(r.started, d)
	}
	return r
}

func (r *substRecorder) WillSubstitute(paths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.will = append(r.will, paths...)
}

func (r *substRecorder) SubstituteProblem(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, err.Error())
}

func (r *substRecorder) SubstituteFailed(drvPath string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, drvPath+": "+err.Error())
}

// substGraph writes dep and top (which uses dep's output) and returns
// them with their output paths.
func substGraph(t *testing.T, s *local.Store) (dep, top, depOut, topOut string) {
	dep = mkDrv(t, s, drvSpec{name: "dep", args: []string{"-c", "echo built-dep > $out"}})
	top = mkDrv(t, s, drvSpec{name: "top", inputs: []string{dep}, args: []string{"-c", "echo built-top $dep000 > $out"}})
	d, _ := s.ReadDerivation(dep)
	tp, _ := s.ReadDerivation(top)
	return dep, top, d.Outputs["out"].Path, tp.Outputs["out"].Path
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSubstituteTarget: the target's output is substituted, nothing is
// built, and its input derivation is never looked at.
func TestSubstituteTarget(t *testing.T) {
	s := testStore(t)
	dep, top, depOut, topOut := substGraph(t, s)
	sub := &fakeSubstituter{st: s, has: map[string]bool{topOut: true, depOut: true}}
	rec := newSubstRecorder()
	res := mustBuild(t, s, Options{Sandbox: SandboxOff, Substituter: sub, Reporter: rec}, top)
	if res[0]["out"] != topOut {
		t.Fatalf("result %v", res)
	}
	if got := readFile(t, topOut); got != "substituted\n" {
		t.Errorf("top output %q: it was built", got)
	}
	if len(rec.started) != 0 {
		t.Errorf("builds started: %v", rec.started)
	}
	if slices.Contains(sub.queried, depOut) {
		t.Errorf("the input %s was queried although the target was substitutable", dep)
	}
	if ok, _ := s.IsValidPath(depOut); ok {
		t.Errorf("the input's output was made valid")
	}
	if !slices.Equal(rec.will, []string{topOut}) {
		t.Errorf("WillSubstitute %v", rec.will)
	}
}

// TestSubstituteInput: the target is not in the cache but its input is:
// the input is substituted, the target built.
func TestSubstituteInput(t *testing.T) {
	s := testStore(t)
	_, top, depOut, topOut := substGraph(t, s)
	sub := &fakeSubstituter{st: s, has: map[string]bool{depOut: true}}
	rec := newSubstRecorder()
	mustBuild(t, s, Options{Sandbox: SandboxOff, Substituter: sub, Reporter: rec}, top)
	if !slices.Equal(rec.started, []string{top}) {
		t.Errorf("built %v, want only %s", rec.started, top)
	}
	if got := readFile(t, depOut); got != "substituted\n" {
		t.Errorf("dep output %q", got)
	}
	if got := readFile(t, topOut); got != "built-top "+depOut+"\n" {
		t.Errorf("top output %q", got)
	}
	if len(rec.problems) != 1 || !strings.Contains(rec.problems[0], topOut) {
		t.Errorf("problems %v", rec.problems)
	}
}

// TestSubstituteFallback: a substitution that fails registers nothing
// and the derivation (with its inputs) is built instead.
func TestSubstituteFallback(t *testing.T) {
	s := testStore(t)
	dep, top, depOut, topOut := substGraph(t, s)
	sub := &fakeSubstituter{st: s, broken: map[string]bool{topOut: true}}
	rec := newSubstRecorder()
	mustBuild(t, s, Options{Sandbox: SandboxOff, Substituter: sub, Reporter: rec}, top)
	if len(rec.failed) != 1 || !strings.HasPrefix(rec.failed[0], top+": ") || !strings.Contains(rec.failed[0], "hash mismatch") {
		t.Errorf("SubstituteFailed reports %v", rec.failed)
	}
	if !slices.Equal(sortedCopy(rec.started), sortedCopy([]string{dep, top})) {
		t.Errorf("built %v", rec.started)
	}
	if got := readFile(t, topOut); got != "built-top "+depOut+"\n" {
		t.Errorf("top output %q", got)
	}
	// dep was queried after the fallback (and was not available).
	if !slices.Contains(sub.queried, depOut) {
		t.Errorf("the input was not queried after the fallback: %v", sub.queried)
	}
}

// TestSubstituteNotWithCheck: --check rebuilds; it never substitutes.
func TestSubstituteNotWithCheck(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	_, top, _, _ := substGraph(t, s)
	mustBuild(t, s, Options{}, top)
	sub := &fakeSubstituter{st: s}
	mustBuild(t, s, Options{Check: true, Substituter: sub}, top)
	if len(sub.queried) != 0 {
		t.Errorf("queried %v with Check", sub.queried)
	}
}

func TestErrorsAbout(t *testing.T) {
	a, b := errors.New("cannot substitute '/s/a': x"), errors.New("path '/s/b' is not available")
	joined := errors.Join(a, b)
	if got := errorsAbout(joined, []string{"/s/b"}); got.Error() != b.Error() {
		t.Errorf("about b: %v", got)
	}
	if got := errorsAbout(joined, []string{"/s/c"}); got != joined {
		t.Errorf("about c: %v", got)
	}
	if got := errorsAbout(a, []string{"/s/b"}); got != a {
		t.Errorf("not joined: %v", got)
	}
	if got := errorsAbout(nil, nil); got != nil {
		t.Errorf("nil: %v", got)
	}
}
