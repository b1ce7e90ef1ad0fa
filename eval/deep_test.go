package eval_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
)

// A million-deep non-tail recursion evaluates within the default limits
// (C++ Nix overflows its stack near 60,000).
func TestMillionDeepRecursion(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{})
	v, err := e.EvalString("deep.nix", "let sumTo = n: if n == 0 then 0 else n + sumTo (n - 1); in sumTo 1000000", "/")
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if v.Kind() != eval.KindInt || v.IntValue() != 500000500000 {
		t.Fatalf("got %v", v)
	}
}

// Runaway recursion ends with Nix's clean error, not a Go stack overflow.
func TestMaxCallDepth(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{Setup: func(o *eval.Options) { o.MaxCallDepth = 5000 }})
	_, err := e.EvalString("loop.nix", "let f = x: f x; in f 1", "/")
	var ee *eval.Error
	if !errors.As(err, &ee) || ee.Kind != eval.ErrStackOverflow {
		t.Fatalf("want a stack overflow error, got %v", err)
	}
	if got := e.Render(err); !contains(got, "stack overflow; max-call-depth exceeded") || !contains(got, "duplicate frames omitted") {
		t.Fatalf("unexpected rendering:\n%s", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
