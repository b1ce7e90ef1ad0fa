package repl

import (
	"strings"
	"testing"
	"time"

	"github.com/nixl-project/nixl/eval"
)

// Evaluations that used to be out of reach of Ctrl-C, or to crash the
// process, end with a message and leave the session usable: a
// backtracking regular expression (exponential time inside one builtin
// call) is interrupted; infinite data printed by :p or forced by deepSeq
// ends in a stack overflow error instead of a Go stack overflow.
func TestInterruptAndLimits(t *testing.T) {
	s, out, errOut := newSession(t, t.TempDir())
	// A lower max-call-depth than the default, for speed: data nested
	// 100,000 deep is an error all the same.
	newEval := s.opts.NewEval
	s.opts.NewEval = func() (*eval.Eval, error) {
		e, err := newEval()
		if err == nil {
			e = eval.New(eval.Options{Builtins: e.Options.Builtins, Stderr: e.Stderr, MaxCallDepth: 100_000})
		}
		return e, err
	}
	if err := s.reset(); err != nil {
		t.Fatal(err)
	}
	a30 := `"` + strings.Repeat("a", 30) + `"`
	// match is given a subject that ends as a match could (in b), or it
	// would not search at all.
	a30cb := `"` + strings.Repeat("a", 30) + `cb"`
	for _, input := range []string{
		`builtins.match "(a*)*b" ` + a30cb,
		`builtins.split "(a*)*b" ` + a30,
	} {
		errOut.Reset()
		timer := time.AfterFunc(200*time.Millisecond, s.Interrupt)
		start := time.Now()
		s.Exec(input)
		timer.Stop()
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v", input, d)
		}
		if got := errOut.String(); !strings.Contains(got, "error: interrupted by the user") {
			t.Errorf("%s: got %q", input, got)
		}
	}
	for _, input := range []string{
		`:p let f = n: { a = f (n + 1); }; in f 0`,
		`builtins.deepSeq (let f = n: [ n (f (n + 1)) ]; in f 0) 1`,
		`let f = n: [ (f (n + 1)) ]; in f 0 == f 0`,
	} {
		errOut.Reset()
		out.Reset()
		s.Exec(input)
		if got := errOut.String(); !strings.Contains(got, "stack overflow") {
			t.Errorf("%s: got %q", input, got)
		}
	}
	errOut.Reset()
	out.Reset()
	s.Exec(`builtins.match "(a*)*b" "aab" ++ [ (1 + 1) ]`)
	if errOut.Len() > 0 || !strings.Contains(out.String(), `[ "" «thunk» ]`) {
		t.Errorf("after the interruptions: %q %q", out.String(), errOut.String())
	}
}
