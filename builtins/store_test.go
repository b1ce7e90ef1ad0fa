package builtins_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/realise/evalstore"
)

// newTestStore gives the evaluator the realiser's ComputeStore, as
// nixl eval does: paths are computed, nothing is written.
func newTestStore() *evalstore.Compute { return evalstore.NewCompute("/nix/store") }

// TestStoreBuiltins runs the tests of the builtins that need a store.
func TestStoreBuiltins(t *testing.T) {
	evaltest.RunDir(t, "testdata/store", evaltest.Options{
		Store: newTestStore(),
		// As in the conformance suite's configuration.
		Setup: func(o *eval.Options) { o.Features = map[string]bool{"nix-command": true, "flakes": true} },
	})
}

// TestDerivationGolden evaluates testdata/drvgolden/cases.nix and compares
// the .drv and output paths (and the other store paths) with those C++
// Nix computed for it (cases.json, written by record.sh).
func TestDerivationGolden(t *testing.T) {
	dir, err := filepath.Abs("testdata/drvgolden")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	e, stderr := evaltest.New(t, evaltest.Options{Store: newTestStore()})
	v, err := e.EvalString("«golden»", `
	  builtins.mapAttrs (name: d:
	    if d.type or null == "derivation" then {
	      inherit (d) drvPath;
	      outputs = builtins.listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) (d.outputs or [ "out" ]));
	    } else d) (import ./cases.nix)`, dir)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if len(want) < 10 {
		t.Fatalf("only %d golden cases", len(want))
	}
	got, err := toGo(e, v)
	if err != nil {
		t.Fatalf("%s\n%s", e.Render(err), stderr)
	}
	gotCases := got.(map[string]any)
	for name, w := range want {
		if !reflect.DeepEqual(gotCases[name], w) {
			t.Errorf("%s: nixl computes\n  %v\nNix computed\n  %v", name, gotCases[name], w)
		}
	}
	for name := range gotCases {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not recorded; run testdata/drvgolden/record.sh", name)
		}
	}
}

// toGo turns strings and sets into Go values, forcing them.
func toGo(e *eval.Eval, v eval.Value) (any, error) {
	if err := e.ForceAt(&v, lang.NoPos); err != nil {
		return nil, err
	}
	switch v.Kind() {
	case eval.KindString:
		return v.Str(), nil
	case eval.KindAttrs:
		m := map[string]any{}
		for _, a := range v.AttrsValue().Lexicographic() {
			x, err := toGo(e, a.Value)
			if err != nil {
				return nil, err
			}
			m[a.Name.String()] = x
		}
		return m, nil
	}
	return nil, fmt.Errorf("unexpected %s", v.ShowType())
}

// builtins.outputOf finds the outputs of a derivation computed in this
// evaluation (DerivationOutputs), though its .drv file was never written.
func TestOutputOfComputedDerivation(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{
		Store: newTestStore(),
		Setup: func(o *eval.Options) { o.Features = map[string]bool{"dynamic-derivations": true} },
	})
	const d = `let d = derivation { name = "two"; system = "x"; builder = "/bin/sh"; outputs = [ "out" "dev" ]; };
	  ref = builtins.unsafeDiscardOutputDependency d.drvPath; in `
	v, err := e.EvalString("«outputOf»", d+`[ (builtins.outputOf ref "dev" == d.dev.outPath) (builtins.outputOf ref "out" == d.outPath) ]`, "/")
	if err != nil {
		t.Fatal(e.Render(err))
	}
	got, err := e.PrintValue(v, eval.PrintOptions{Force: true})
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if got != "[ true true ]" {
		t.Errorf("outputOf of a computed derivation: %s, want [ true true ]", got)
	}
	v, err = e.EvalString("«outputOf»", d+`builtins.outputOf ref "lib"`, "/")
	if err == nil {
		_, err = e.PrintValue(v, eval.PrintOptions{Force: true})
	}
	if err == nil || !strings.Contains(e.Render(err), "does not have output 'lib'") {
		t.Errorf("outputOf of a missing output: %v", err)
	}
}
