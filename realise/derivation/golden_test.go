package derivation

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

// Golden data recorded from Nix 2.8 by testdata/record.sh, for two store
// directories.
var goldenStores = []struct {
	tag string
	dir store.Dir
}{
	{"nix-store", "/nix/store"},
	{"tmp-store", "/tmp/nixl-test-store"},
}

type goldenCase struct {
	DrvPath string            `json:"drvPath"`
	Outputs map[string]string `json:"outputs"`
}

func loadCases(t *testing.T, tag string) map[string]goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", tag, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("%s: only %d golden cases", tag, len(cases))
	}
	return cases
}

// goldenFile returns the recorded text of the .drv at drvPath.
func goldenFile(t testing.TB, tag, drvPath string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", tag, "drv", path.Base(drvPath)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func drvName(drvPath string) string {
	return strings.TrimSuffix(path.Base(drvPath)[store.StorePathHashLen+1:], store.DrvExtension)
}

// goldenLoader loads input derivations from the recorded files, counting
// loads so tests can check memoisation.
func goldenLoader(t testing.TB, tag string, dir store.Dir, loads map[string]int) Loader {
	return func(drvPath string) (*Derivation, error) {
		if loads != nil {
			loads[drvPath]++
		}
		return Parse(dir, drvName(drvPath), goldenFile(t, tag, drvPath))
	}
}

func TestGoldenDrvFilesRoundTrip(t *testing.T) {
	for _, gs := range goldenStores {
		files, err := filepath.Glob(filepath.Join("testdata", gs.tag, "drv", "*.drv"))
		if err != nil || len(files) < 20 {
			t.Fatalf("%s: %d .drv files, %v", gs.tag, len(files), err)
		}
		for _, file := range files {
			drvPath := string(gs.dir) + "/" + filepath.Base(file)
			if strings.HasSuffix(drvPath, "-quirk-platform.drv") {
				continue // not parseable by design; see TestUnescapedPlatformQuirk
			}
			text := goldenFile(t, gs.tag, drvPath)
			d, err := Parse(gs.dir, drvName(drvPath), text)
			if err != nil {
				t.Errorf("%s: %v", drvPath, err)
				continue
			}
			if got := d.ATerm(); !bytes.Equal(got, text) {
				t.Errorf("%s: written back differently:\n got %s\nwant %s", drvPath, got, text)
			}
			if got, err := d.ComputePath(gs.dir); err != nil || got != drvPath {
				t.Errorf("ComputePath = %s, %v; Nix: %s", got, err, drvPath)
			}
		}
	}
}

// recompute rebuilds the outputs of a parsed derivation the way
// builtins.derivation does, from its other fields and its environment.
func recompute(t *testing.T, h *Hasher, dir store.Dir, parsed *Derivation) *Derivation {
	t.Helper()
	d := *parsed
	d.Env = maps.Clone(parsed.Env)
	d.Outputs = nil
	names := parsed.OutputNames()
	for _, name := range names {
		d.Env[name] = "must be replaced"
	}
	if outputHash, ok := d.Env["outputHash"]; ok {
		method := store.FlatMethod
		if mode, ok := d.Env["outputHashMode"]; ok {
			var err error
			if method, err = ParseOutputHashMode(mode); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.SetFixedOutput(dir, method, outputHash, d.Env["outputHashAlgo"]); err != nil {
			t.Fatalf("%s: SetFixedOutput: %v", d.Name, err)
		}
		return &d
	}
	// Output order as given to the evaluator must not matter.
	if listed, ok := d.Env["outputs"]; ok {
		names = strings.Fields(listed)
	}
	slices.Reverse(names)
	if err := h.SetInputAddressedOutputs(&d, names); err != nil {
		t.Fatalf("%s: SetInputAddressedOutputs: %v", d.Name, err)
	}
	return &d
}

func TestGoldenOutputAndDrvPathsRecomputed(t *testing.T) {
	for _, gs := range goldenStores {
		hasher := NewHasher(gs.dir, goldenLoader(t, gs.tag, gs.dir, nil))
		for name, c := range loadCases(t, gs.tag) {
			t.Run(gs.tag+"/"+name, func(t *testing.T) {
				text := goldenFile(t, gs.tag, c.DrvPath)
				parsed, err := Parse(gs.dir, drvName(c.DrvPath), text)
				if err != nil {
					t.Fatal(err)
				}
				typ, err := parsed.Type()
				if err != nil {
					t.Fatal(err)
				}
				if typ == TypeFloating {
					// TypeFloating outputs are computed by the build; check the
					// placeholders the evaluator put in the environment.
					for output := range parsed.Outputs {
						if got := Placeholder(output); parsed.Env[output] != got {
							t.Errorf("Placeholder(%s) = %s, Nix: %s", output, got, parsed.Env[output])
						}
					}
					return
				}
				if typ != TypeDeferred {
					for output, want := range c.Outputs {
						if got := parsed.Outputs[output].Path; got != want {
							t.Errorf("recorded .drv has %s = %s, evaluator said %s", output, got, want)
						}
					}
				}
				d := recompute(t, hasher, gs.dir, parsed)
				if got := d.ATerm(); !bytes.Equal(got, text) {
					t.Errorf("recomputed derivation differs:\n got %s\nwant %s", got, text)
				}
				if got, err := d.ComputePath(gs.dir); err != nil || got != c.DrvPath {
					t.Errorf("ComputePath = %s, %v; Nix: %s", got, err, c.DrvPath)
				}
			})
		}
	}
}

func TestFixedOutputInputsAreHashedByOutputOnly(t *testing.T) {
	for _, gs := range goldenStores {
		cases := loadCases(t, gs.tag)
		loads := map[string]int{}
		hasher := NewHasher(gs.dir, goldenLoader(t, gs.tag, gs.dir, loads))
		m1, err := hasher.HashModuloPath(cases["fetchMirror1"].DrvPath)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := hasher.HashModuloPath(cases["fetchMirror2"].DrvPath)
		if err != nil {
			t.Fatal(err)
		}
		if cases["fetchMirror1"].DrvPath == cases["fetchMirror2"].DrvPath || !maps.Equal(m1.Outputs, m2.Outputs) {
			t.Errorf("%s: fixed-output derivations with equal outputs should differ as .drv files but hash alike modulo: %v vs %v", gs.tag, m1, m2)
		}
		u1, u2 := cases["usesFetched1"], cases["usesFetched2"]
		if u1.DrvPath == u2.DrvPath || u1.Outputs["out"] != u2.Outputs["out"] {
			t.Errorf("%s: dependants of interchangeable fetches should share output paths: %v vs %v", gs.tag, u1, u2)
		}
		if _, err := hasher.HashModuloPath(cases["usesBothFetched"].DrvPath); err != nil {
			t.Fatal(err)
		}
		if _, err := hasher.HashModuloPath(cases["chainC"].DrvPath); err != nil {
			t.Fatal(err)
		}
		for p, n := range loads {
			if n != 1 {
				t.Errorf("%s loaded %d times; modulo hashes must be memoised", p, n)
			}
		}
	}
}

func TestUnescapedPlatformQuirk(t *testing.T) {
	// Nix writes the platform without escaping. A platform containing '"'
	// or '\' thus yields a .drv that Nix itself cannot read back, but whose
	// path depends on exactly those bytes; we reproduce both.
	for _, gs := range goldenStores {
		var golden struct {
			DrvPath    string `json:"drvPath"`
			OutputPath string `json:"outputPath"`
			System     string `json:"system"`
		}
		data, err := os.ReadFile(filepath.Join("testdata", gs.tag, "quirk-platform.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &golden); err != nil {
			t.Fatal(err)
		}
		d := &Derivation{
			Name:     "quirk-platform",
			Platform: golden.System,
			Builder:  "/bin/sh",
			Env:      map[string]string{"builder": "/bin/sh", "name": "quirk-platform", "system": golden.System},
		}
		if err := NewHasher(gs.dir, nil).SetInputAddressedOutputs(d, []string{"out"}); err != nil {
			t.Fatal(err)
		}
		if d.Outputs["out"].Path != golden.OutputPath {
			t.Errorf("%s: output %s, Nix: %s", gs.tag, d.Outputs["out"].Path, golden.OutputPath)
		}
		if got, err := d.ComputePath(gs.dir); err != nil || got != golden.DrvPath {
			t.Errorf("%s: drv path %s, %v; Nix: %s", gs.tag, got, err, golden.DrvPath)
		}
		text := goldenFile(t, gs.tag, golden.DrvPath)
		if !bytes.Equal(d.ATerm(), text) {
			t.Errorf("%s: ATerm differs from Nix's:\n got %s\nwant %s", gs.tag, d.ATerm(), text)
		}
		if _, err := Parse(gs.dir, "quirk-platform", text); err == nil {
			t.Errorf("%s: parsed a .drv with an unescaped quote in the platform", gs.tag)
		}
	}
}
