package eval_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
)

// evalDeep evaluates src, forces it deeply and prints it.
func evalDeep(e *eval.Eval, src string) (string, error) {
	v, err := e.EvalString("limits.nix", src, "/")
	if err == nil {
		err = e.ForceDeep(&v, lang.NoPos)
	}
	if err != nil {
		return "", err
	}
	return e.PrintValue(v, eval.PrintOptions{Force: true})
}

// wantError checks that err is an evaluation error of the kind whose
// rendering matches re.
func wantError(t *testing.T, e *eval.Eval, src string, err error, kind eval.ErrorKind, re string) {
	t.Helper()
	var ee *eval.Error
	if !errors.As(err, &ee) {
		t.Fatalf("%s: want an error matching %q, got %v", src, re, err)
	}
	if got := e.Render(err); ee.Kind != kind || !regexp.MustCompile(re).MatchString(got) {
		t.Fatalf("%s: got error (kind %d)\n%.2000s\nwant kind %d matching %q", src, ee.Kind, got, kind, re)
	}
}

// Recursion over nested data (deepSeq, ==, <, toString, printing,
// assertion messages) counts towards max-call-depth like calls do, so
// that infinite data ends in an error, not a Go stack overflow.
func TestDataRecursionDepth(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{Setup: func(o *eval.Options) { o.MaxCallDepth = 10000 }})
	inf := `let f = n: [ n (f (n + 1)) ]; g = n: { a = g (n + 1); b = n; }; in `
	for _, src := range []string{
		inf + `f 0`,
		inf + `g 0`,
		inf + `builtins.deepSeq (f 0) 1`,
		inf + `f 0 == f 0`,
		inf + `g 0 == g 0`,
		inf + `f 0 < f 0`,
		inf + `toString (f 0)`,
		inf + `assert g 0 == g 1; 1`,
		inf + `builtins.toJSON (f 0)`,
		inf + `builtins.toXML (g 0)`,
	} {
		_, err := evalDeep(e, src)
		wantError(t, e, src, err, eval.ErrStackOverflow, `stack overflow; max-call-depth exceeded`)
	}
	// Deep but finite data within the limit is fine, and the depth is
	// given back: the evaluator works afterwards.
	out, err := evalDeep(e, `let f = n: if n == 0 then [ ] else [ (f (n - 1)) ]; in [ (f 3000 == f 3000) (toString (f 3000)) ]`)
	if err != nil || out != `[ true "" ]` {
		t.Fatalf("got %q, %v", out, err)
	}
}

// The Go stack is measured as evaluation goes deeper, so a recursion
// whose levels take more stack than max-call-depth allows for ends in
// Nix's "stack overflow (possible infinite recursion)" instead of a
// fatal Go stack overflow. The test lowers the stack budget to 64 MiB
// (the real one is 15/16 of the largest stack the runtime allows).
func TestStackGuard(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{}) // (raises the stack limit)
	defer eval.SetLimitsForTest(eval.MaxStringLength, eval.MaxListLength, 64<<20)()
	for _, src := range []string{
		// Thunks forced through selections: several hundred bytes a level.
		`(builtins.foldl' (acc: x: { v = acc.v + x; }) { v = 0; } (builtins.genList (i: i) 1000000)).v`,
		`let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000000`,
		`let f = n: [ n (f (n + 1)) ]; in builtins.deepSeq (f 0) 1`,
		`let f = n: { a = f (n + 1); }; in f 0`,
		`let f = n: [ (f (n + 1)) ]; in f 0 == f 0`,
		`let f = n: [ (f (n + 1)) ]; in toString (f 0)`,
	} {
		_, err := evalDeep(e, src)
		wantError(t, e, src, err, eval.ErrStackOverflow, `stack overflow \(possible infinite recursion\)`)
	}
	if out, err := evalDeep(e, `let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000`); err != nil || out != "10000" {
		t.Fatalf("got %q, %v", out, err)
	}
}

// Strings and lists built from others are bounded, so that repeated
// doubling fails at once with a message rather than exhausting memory.
// (The test lowers the limits to 1 MiB and 100,000 elements; the real
// ones are 1 GiB and 2^26.)
func TestSizeLimits(t *testing.T) {
	defer eval.SetLimitsForTest(1<<20, 100_000, 0)()
	e, _ := evaltest.New(t, evaltest.Options{})
	const big = `let s = builtins.concatStringsSep "" (builtins.genList (i: "0123456789") 60000); l = builtins.genList (i: i) 60000; in `
	for _, src := range []string{
		big + `s + s`,
		big + `"${s}${s}"`,
		big + `builtins.concatStringsSep "," [ s s ]`,
		big + `builtins.replaceStrings [ "0" ] [ "0123456789" ] s`,
		big + `toString [ s s ]`,
		big + `builtins.toJSON [ s s ]`,
		`let d = s: s + s; in ` + strings.Repeat("d (", 21) + `"x"` + strings.Repeat(")", 21),
	} {
		_, err := evalDeep(e, src)
		wantError(t, e, src, err, eval.ErrEval, `cannot create a string of \d+ bytes \(the maximum is 1 MiB\)`)
	}
	for _, src := range []string{
		big + `l ++ l`,
		big + `builtins.concatLists [ l l ]`,
		big + `builtins.concatMap (x: l) [ 1 2 ]`,
		`builtins.genList (x: x) 100001`,
		`let d = l: l ++ l; in ` + strings.Repeat("d (", 18) + "[ 1 ]" + strings.Repeat(")", 18),
	} {
		_, err := evalDeep(e, src)
		wantError(t, e, src, err, eval.ErrEval, `cannot create list of size \d+ \(the maximum is 100000\)`)
	}
	if out, err := evalDeep(e, big+`builtins.stringLength (s + "x") + builtins.length (l ++ [ 1 ])`); err != nil || out != "660002" {
		t.Fatalf("got %q, %v", out, err)
	}
}

// With a memory limit, a list that could not fit is refused before it is
// allocated, and an evaluation whose heap grows beyond the limit is
// stopped with an error (the heap is sampled in the background).
func TestMemoryLimit(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{Setup: func(o *eval.Options) { o.MaxMemory = 64 << 20 }})
	_, err := evalDeep(e, `builtins.genList (x: x) 10000000`)
	wantError(t, e, "genList", err, eval.ErrMemoryLimit, `a list of 10000000 elements would take 228.9 MiB, more than the memory limit of 64 MiB \(--max-memory\)`)
	start := time.Now()
	src := `let s = builtins.concatStringsSep "" (builtins.genList (j: "a") 1000000); in builtins.deepSeq (builtins.genList (i: s + toString i) 100000) 1`
	_, err = evalDeep(e, src)
	wantError(t, e, "growth", err, eval.ErrMemoryLimit, `evaluation stopped: it used more than the memory limit of 64 MiB \(--max-memory\)`)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("stopping took %v", d)
	}
	// The limit is not an interruption by the user, and once cleared the
	// evaluator works again.
	if ee := (*eval.Error)(nil); errors.As(err, &ee) && strings.Contains(ee.Msg, "interrupted") {
		t.Errorf("message %q", ee.Msg)
	}
	e.ClearInterrupt()
	if out, err := evalDeep(e, `1 + 1`); err != nil || out != "2" {
		t.Fatalf("after the limit: %q %v", out, err)
	}
}
