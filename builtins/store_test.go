package builtins_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// testStore gives the evaluator the realiser's ComputeStore, as cmd/nixl
// does: paths are computed, nothing is written.
type testStore struct{ cs *derivation.ComputeStore }

func newTestStore() *testStore {
	return &testStore{cs: derivation.NewComputeStore("/nix/store")}
}

func (s *testStore) Dir() string { return string(s.cs.Dir()) }

func (s *testStore) AddPath(name, src string, recursive bool, filter eval.PathFilter) (string, error) {
	var f func(string) (bool, error)
	if filter != nil {
		f = func(path string) (bool, error) {
			kind := "unknown"
			if fi, err := os.Lstat(path); err == nil {
				switch m := fi.Mode(); {
				case m.IsRegular():
					kind = "regular"
				case m.IsDir():
					kind = "directory"
				case m&os.ModeSymlink != 0:
					kind = "symlink"
				}
			}
			return filter(path, kind)
		}
	}
	return s.cs.AddPath(name, src, recursive, f)
}

func (s *testStore) AddText(name, text string, refs []string) (string, error) {
	return s.cs.AddText(name, text, refs)
}

func (s *testStore) AddDerivation(d *builtins.Derivation) (string, error) {
	rd := &derivation.Derivation{Name: d.Name, Outputs: map[string]derivation.Output{}, InputDrvs: d.InputDrvs,
		InputSrcs: d.InputSrcs, Platform: d.Platform, Builder: d.Builder, Args: d.Args, Env: d.Env}
	for n, o := range d.Outputs {
		rd.Outputs[n] = derivation.Output{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	p, err := s.cs.AddDerivation(rd)
	if err != nil {
		return "", err
	}
	for n, o := range rd.Outputs {
		d.Outputs[n] = builtins.DerivationOutput{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	d.Env = rd.Env
	return p, nil
}

func (s *testStore) ReadDerivation(p string) (*builtins.Derivation, error) {
	rd, err := s.cs.ReadDerivation(p)
	if err != nil {
		return nil, err
	}
	d := &builtins.Derivation{Name: rd.Name, Outputs: map[string]builtins.DerivationOutput{}, InputDrvs: rd.InputDrvs,
		InputSrcs: rd.InputSrcs, Platform: rd.Platform, Builder: rd.Builder, Args: rd.Args, Env: rd.Env}
	for n, o := range rd.Outputs {
		d.Outputs[n] = builtins.DerivationOutput{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	return d, nil
}

func (s *testStore) IsValidPath(p string) bool { return s.cs.IsValidPath(p) }

func (s *testStore) QueryReferences(p string) ([]string, error) { return s.cs.QueryReferences(p) }

func (s *testStore) FixedOutputPath(name, method string, h nixhash.Hash) (string, error) {
	m := map[string]store.ContentAddressMethod{"flat": store.FlatMethod, "nar": store.RecursiveMethod, "text": store.TextMethod}[method]
	return s.cs.FixedOutputPath(name, m, h)
}

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
