package derivation

import (
	"github.com/nixl-project/nixl/nixhash"

	"errors"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

// memoryStore is a Loader over derivations built in the test.
type memoryStore map[string]*Derivation

func (m memoryStore) load(drvPath string) (*Derivation, error) {
	d, ok := m[drvPath]
	if !ok {
		return nil, errors.New("no such derivation " + drvPath)
	}
	return d, nil
}

// add completes d as builtins.derivation would and stores it.
func (m memoryStore) add(t *testing.T, h *Hasher, d *Derivation, outputs ...string) string {
	t.Helper()
	if err := h.SetInputAddressedOutputs(d, outputs); err != nil {
		t.Fatal(err)
	}
	p, err := d.ComputePath(testDir)
	if err != nil {
		t.Fatal(err)
	}
	m[p] = d
	return p
}

func simple(name string) *Derivation {
	return &Derivation{Name: name, Platform: "x86_64-linux", Builder: "/bin/sh", Env: map[string]string{"name": name}}
}

func TestHashModuloMasksOutputs(t *testing.T) {
	m := memoryStore{}
	h := NewHasher(testDir, m.load)
	d := simple("masked")
	m.add(t, h, d, "out")
	masked, err := h.HashModulo(d, true)
	if err != nil {
		t.Fatal(err)
	}
	// The masked text has empty output paths and output variables.
	blank := *d
	blank.Outputs = map[string]Output{"out": {}}
	blank.Env = map[string]string{"name": "masked", "out": ""}
	if want := nixhash.Sum(nixhash.SHA256, blank.ATerm()); must(masked.Output("out")) != want {
		t.Errorf("masked hash %v, want the hash of %s", must(masked.Output("out")), blank.ATerm())
	}
	unmasked, err := h.HashModulo(d, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := nixhash.Sum(nixhash.SHA256, d.ATerm()); must(unmasked.Output("out")) != want {
		t.Errorf("unmasked hash of a derivation without inputs should hash its ATerm")
	}
}

func TestHashModuloReplacesInputsByTheirHashes(t *testing.T) {
	m := memoryStore{}
	h := NewHasher(testDir, m.load)
	dep := simple("dep")
	depPath := m.add(t, h, dep, "out", "dev")
	top := simple("top")
	top.InputDrvs = map[string][]string{depPath: {"dev", "out"}}
	m.add(t, h, top, "out")

	depHash, err := h.HashModuloPath(depPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.HashModulo(top, false)
	if err != nil {
		t.Fatal(err)
	}
	replaced := *top
	replaced.InputDrvs = map[string][]string{must(depHash.Output("out")).Base16(): {"dev", "out"}}
	if want := nixhash.Sum(nixhash.SHA256, replaced.ATerm()); must(got.Output("out")) != want {
		t.Errorf("modulo hash %v, want the hash of %s", must(got.Output("out")), replaced.ATerm())
	}
}

func TestHashModuloErrors(t *testing.T) {
	m := memoryStore{}
	h := NewHasher(testDir, m.load)
	dep := simple("dep")
	depPath := m.add(t, h, dep, "out")

	missingOutput := simple("x")
	missingOutput.InputDrvs = map[string][]string{depPath: {"doc"}}
	if err := h.SetInputAddressedOutputs(missingOutput, []string{"out"}); err == nil || !strings.Contains(err.Error(), "has no output 'doc'") {
		t.Errorf("missing input output: %v", err)
	}

	missingDrv := simple("x")
	missingDrv.InputDrvs = map[string][]string{testDir.Path(mustStorePath(t, "missing.drv")): {"out"}}
	if err := h.SetInputAddressedOutputs(missingDrv, []string{"out"}); err == nil || !strings.Contains(err.Error(), "no such derivation") {
		t.Errorf("missing input derivation: %v", err)
	}

	// A loader can present a cycle that content addressing rules out.
	cyclePath := testDir.Path(mustStorePath(t, "cycle.drv"))
	cycle := simple("cycle")
	cycle.Outputs = map[string]Output{"out": {Path: testDir.Path(mustStorePath(t, "cycle"))}}
	cycle.InputDrvs = map[string][]string{cyclePath: {"out"}}
	m[cyclePath] = cycle
	if _, err := h.HashModuloPath(cyclePath); err == nil || !strings.Contains(err.Error(), "depends on itself") {
		t.Errorf("cycle: %v", err)
	}

	for _, outputs := range [][]string{nil, {"out", "out"}, {""}} {
		if err := h.SetInputAddressedOutputs(simple("x"), outputs); err == nil {
			t.Errorf("SetInputAddressedOutputs accepted outputs %q", outputs)
		}
	}
}

func mustStorePath(t *testing.T, name string) store.StorePath {
	t.Helper()
	p, err := store.NewStorePath(strings.Repeat("1", store.StorePathHashLen), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeferredOutputsPropagate(t *testing.T) {
	m := memoryStore{}
	h := NewHasher(testDir, m.load)
	floating := simple("floating")
	floating.Outputs = map[string]Output{"out": {HashAlgo: "r:sha256"}}
	floating.Env["out"] = Placeholder("out")
	floatingPath, err := floating.ComputePath(testDir)
	if err != nil {
		t.Fatal(err)
	}
	m[floatingPath] = floating

	dependant := simple("dependant")
	dependant.InputDrvs = map[string][]string{floatingPath: {"out"}}
	if err := h.SetInputAddressedOutputs(dependant, []string{"out"}); err != nil {
		t.Fatal(err)
	}
	if o := dependant.Outputs["out"]; o.Kind() != DeferredOutput || dependant.Env["out"] != "" {
		t.Errorf("dependant of a floating derivation got output %+v, env %q", o, dependant.Env["out"])
	}
	if typ, _ := dependant.Type(); typ != TypeDeferred {
		t.Errorf("type %v", typ)
	}
}

func TestSetFixedOutput(t *testing.T) {
	const sri = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	d := simple("f")
	if err := d.SetFixedOutput(testDir, store.RecursiveMethod, sri, ""); err != nil {
		t.Fatal(err)
	}
	o := d.Outputs["out"]
	if o.HashAlgo != "r:sha256" || o.Hash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" || d.Env["out"] != o.Path || len(d.Outputs) != 1 {
		t.Errorf("SetFixedOutput gave %+v, env %q", o, d.Env["out"])
	}
	errorCases := []struct{ hash, algo, wantErr string }{
		{"", "", "empty hash requires explicit hash type"},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "", "does not include a type"},
		{sri, "sha1", "should have type 'sha1'"},
		{"xyz", "sha256", "wrong length"},
	}
	for _, c := range errorCases {
		if err := simple("f").SetFixedOutput(testDir, store.FlatMethod, c.hash, c.algo); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("SetFixedOutput(%q, %q) error = %v, want %q", c.hash, c.algo, err, c.wantErr)
		}
	}
	if _, err := ParseOutputHashMode(""); err == nil || err.Error() != "invalid value '' for 'outputHashMode' attribute" {
		t.Errorf("ParseOutputHashMode(\"\"): %v", err)
	}
	for mode, want := range map[string]store.ContentAddressMethod{"flat": store.FlatMethod, "recursive": store.RecursiveMethod} {
		if got, err := ParseOutputHashMode(mode); err != nil || got != want {
			t.Errorf("ParseOutputHashMode(%q) = %v, %v", mode, got, err)
		}
	}
}

func TestPlaceholderKnownValue(t *testing.T) {
	// builtins.placeholder "out" in every Nix version.
	if got := Placeholder("out"); got != "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9" {
		t.Errorf("Placeholder(out) = %s", got)
	}
}

// must drops the found flag of ModuloHash.Output in tests that know the
// output exists.
func must(h nixhash.Hash, _ bool) nixhash.Hash { return h }
