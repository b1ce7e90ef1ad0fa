package eval_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
)

// Interrupt, from another goroutine, stops a long evaluation; the thunks
// it left unfinished are evaluated again afterwards.
func TestInterrupt(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{})
	v, err := e.EvalString("interrupt.nix", `{ slow = builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 10000)) 0 (builtins.genList (x: x) 10000); quick = 1 + 1; }`, "/")
	if err != nil {
		t.Fatal(err)
	}
	slow := v.AttrsValue().Get(eval.Intern("slow"))
	time.AfterFunc(100*time.Millisecond, e.Interrupt)
	start := time.Now()
	err = e.Force(&slow.Value)
	var ee *eval.Error
	if !errors.As(err, &ee) || ee.Kind != eval.ErrInterrupted {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("interrupting took %v", d)
	}
	if !e.Interrupted() {
		t.Error("the evaluator should stay interrupted")
	}
	quick := v.AttrsValue().Get(eval.Intern("quick"))
	if err := e.Force(&quick.Value); err == nil {
		t.Error("an interrupted evaluator evaluated")
	}
	e.ClearInterrupt()
	if err := e.Force(&quick.Value); err != nil || quick.Value.IntValue() != 2 {
		t.Fatalf("after ClearInterrupt: %v %v", quick.Value, err)
	}
	// slow was left pending, not failed: it can be evaluated (and
	// interrupted) again.
	time.AfterFunc(50*time.Millisecond, e.Interrupt)
	if err := e.Force(&slow.Value); !errors.As(err, &ee) || ee.Kind != eval.ErrInterrupted {
		t.Fatalf("second time: %v", err)
	}
	e.ClearInterrupt()
	r, err := e.EvalString("x.nix", "builtins.tryEval (builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ])", "/")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ForceDeep(&r, lang.NoPos); err != nil {
		t.Fatal(err)
	}
}
