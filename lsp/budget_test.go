package lsp

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// TestBoundedEvaluation: evaluations that would run for ever, exhaust
// memory or recurse without end on data stop within the budgets with
// their own errors; none has to be abandoned.
func TestBoundedEvaluation(t *testing.T) {
	opts := testOptions()
	opts.EvalBudget = 200 * time.Millisecond
	opts.MemoryBudget = 64 << 20
	opts.Grace = 5 * time.Second
	s := &server{opts: opts}
	a30 := `"` + strings.Repeat("a", 30) + `"`
	// Ends in a byte the pattern can end with, so that match searches.
	a30cb := `"` + strings.Repeat("a", 30) + `cb"`
	for _, tc := range []struct {
		name, src string
		want      error
		msg       string
	}{
		// A backtracking regular expression takes exponential time
		// inside one builtin call.
		{"regex-match", `builtins.match "(a*)*b" ` + a30cb, ErrTimeBudget, ""},
		{"regex-split", `builtins.split "(a*)*b" ` + a30, ErrTimeBudget, ""},
		{"loop", "builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 100000)) 0 (builtins.genList (x: x) 100000)", ErrTimeBudget, ""},
		{"memory", `let s = builtins.concatStringsSep "" (builtins.genList (j: "a") 1000000); in builtins.deepSeq (builtins.genList (i: s + toString i) 100000) 1`, ErrMemoryBudget, ""},
		{"infinite-data", `let f = n: [ n (f (n + 1)) ]; in builtins.deepSeq (f 0) 1`, nil, "stack overflow"},
		{"infinite-print", `let f = n: { a = f (n + 1); }; in f 0`, nil, "stack overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC() // the memory budget counts from the heap at the start
			start := time.Now()
			err := s.bounded(func(e *eval.Eval) error {
				v, err := e.EvalString("t.nix", tc.src, "/")
				if err != nil {
					return err
				}
				if err := e.ForceDeep(&v, lang.NoPos); err != nil {
					return err
				}
				_, err = e.PrintValue(v, eval.PrintOptions{Force: true})
				return err
			})
			if d := time.Since(start); d > opts.EvalBudget+opts.Grace {
				t.Errorf("took %v", d)
			}
			switch {
			case errors.Is(err, ErrAbandoned):
				t.Fatalf("abandoned: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			case tc.want == nil && (err == nil || !strings.Contains(err.Error(), tc.msg)):
				t.Fatalf("got %v, want %q", err, tc.msg)
			}
		})
	}
}
