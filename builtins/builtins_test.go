package builtins_test

import (
	"strings"
	"testing"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
)

// TestBuiltins runs the per-builtin tests in testdata: NAME.nixl files of
// cases and NAME.errors.nixl files of expected failures (see evaltest).
func TestBuiltins(t *testing.T) {
	evaltest.RunDir(t, "testdata", evaltest.Options{})
}

// Each element of genList is one thunk, forced once however often it is
// used: the trace of each element is printed once. (The two maps take
// the elements as they are, unforced; elemAt forces the list's slot.)
func TestGenListElementsShared(t *testing.T) {
	e, stderr := evaltest.New(t, evaltest.Options{})
	v, err := e.EvalString("«genList»", `
	  let l = builtins.genList (i: builtins.trace "element ${toString i}" (i * 10)) 3;
	      m1 = map (x: x + 0) l;
	      m2 = map (x: x + 1) l;
	      sum = builtins.foldl' (a: b: a + b) 0;
	  in sum m1 + sum m2 + builtins.elemAt l 1 + builtins.elemAt l 1`, "/")
	if err == nil {
		_, err = e.PrintValue(v, eval.PrintOptions{Force: true})
	}
	if err != nil {
		t.Fatal(e.Render(err))
	}
	for _, want := range []string{"element 0", "element 1", "element 2"} {
		if n := strings.Count(stderr.String(), want); n != 1 {
			t.Errorf("%q traced %d times, want once:\n%s", want, n, stderr)
		}
	}
}
