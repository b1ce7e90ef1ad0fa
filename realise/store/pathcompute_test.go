package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"encoding/json"
	"os"
	"strings"
	"testing"
)

// pathsGolden mirrors testdata/paths-*.json, evaluated by Nix from
// testdata/paths.nix.
type pathsGolden struct {
	StoreDir Dir `json:"storeDir"`
	Text     []struct {
		Name       string   `json:"name"`
		Contents   string   `json:"contents"`
		References []string `json:"references"`
		Path       string   `json:"path"`
	} `json:"text"`
	Fixed []struct {
		Name string `json:"name"`
		Mode string `json:"mode"`
		Algo string `json:"algo"`
		Hash string `json:"hash"`
		Path string `json:"path"`
	} `json:"fixed"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func parsePaths(t *testing.T, dir Dir, abs []string) []StorePath {
	t.Helper()
	var out []StorePath
	for _, a := range abs {
		p, err := dir.ParsePath(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestStorePathsMatchNix(t *testing.T) {
	for _, file := range []string{"testdata/paths-nix-store.json", "testdata/paths-tmp-store.json"} {
		var golden pathsGolden
		readJSON(t, file, &golden)
		dir := golden.StoreDir
		if len(golden.Text) == 0 || len(golden.Fixed) == 0 {
			t.Fatalf("%s has no cases", file)
		}
		for _, c := range golden.Text {
			p, err := dir.ComputeTextPath(c.Name, []byte(c.Contents), parsePaths(t, dir, c.References))
			if err != nil {
				t.Errorf("%s: text %q: %v", dir, c.Name, err)
			} else if got := dir.Path(p); got != c.Path {
				t.Errorf("%s: text %q = %s, Nix: %s", dir, c.Name, got, c.Path)
			}
		}
		for _, c := range golden.Fixed {
			method := FlatMethod
			if c.Mode == "recursive" {
				method = RecursiveMethod
			}
			var algo nixhash.Algorithm
			if c.Algo != "" {
				var err error
				if algo, err = nixhash.ParseAlgorithm(c.Algo); err != nil {
					t.Fatal(err)
				}
			}
			h, err := nixhash.Parse(c.Hash, algo)
			if err != nil {
				t.Errorf("%s: fixed %q: %v", dir, c.Name, err)
				continue
			}
			p, err := dir.MakeFixedOutputPath(c.Name, method, h, nil, false)
			if err != nil {
				t.Errorf("%s: fixed %q: %v", dir, c.Name, err)
			} else if got := dir.Path(p); got != c.Path {
				t.Errorf("%s: fixed %q = %s, Nix: %s", dir, c.Name, got, c.Path)
			}
		}
	}
}

func TestSourcePathWithReferencesAndSelfMatchesNix(t *testing.T) {
	var golden struct {
		StoreDir   Dir      `json:"storeDir"`
		Path       string   `json:"path"`
		CA         string   `json:"ca"`
		References []string `json:"references"`
	}
	readJSON(t, "testdata/source-selfref.json", &golden)
	dir := golden.StoreDir
	self, err := dir.ParsePath(golden.Path)
	if err != nil {
		t.Fatal(err)
	}
	hashText, ok := strings.CutPrefix(golden.CA, "fixed:r:")
	if !ok {
		t.Fatalf("unexpected content address %q", golden.CA)
	}
	h, err := nixhash.ParsePrefixed(hashText)
	if err != nil {
		t.Fatal(err)
	}
	var others []StorePath
	hasSelf := false
	for _, ref := range parsePaths(t, dir, golden.References) {
		if ref == self {
			hasSelf = true
		} else {
			others = append(others, ref)
		}
	}
	if !hasSelf || len(others) == 0 {
		t.Fatalf("golden path should refer to itself and to others: %v", golden.References)
	}
	for _, compute := range []func() (StorePath, error){
		func() (StorePath, error) { return dir.MakeSourcePath(self.Name(), h, others, true) },
		func() (StorePath, error) {
			return dir.MakeFixedOutputPath(self.Name(), RecursiveMethod, h, others, true)
		},
	} {
		p, err := compute()
		if err != nil {
			t.Fatal(err)
		}
		if p != self {
			t.Errorf("computed %s, Nix: %s", dir.Path(p), golden.Path)
		}
	}
	// Without the self-reference the path must differ.
	if p, _ := dir.MakeSourcePath(self.Name(), h, others, false); p == self {
		t.Error("self-reference did not affect the path")
	}
}

func TestStorePathFingerprint(t *testing.T) {
	// The fingerprint layout, spelled out independently of MakeStorePath.
	dir := Dir("/tmp/nixl-test-store")
	inner := nixhash.SumString(nixhash.SHA256, "contents")
	ref, err := NewStorePath(sampleHashPart, "dep")
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := "text:" + string(dir) + "/" + ref.String() + ":sha256:" + inner.Base16() + ":" + string(dir) + ":name"
	want := nixhash.EncodeBase32(nixhash.Compress(nixhash.SumString(nixhash.SHA256, fingerprint), 20)) + "-name"
	got, err := dir.MakeTextPath("name", inner, []StorePath{ref, ref})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("MakeTextPath = %s, want %s", got, want)
	}
}

func TestMakeOutputPathNaming(t *testing.T) {
	h := nixhash.SumString(nixhash.SHA256, "drv")
	out, err := DefaultDir.MakeOutputPath("out", h, "hello-1.0")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := DefaultDir.MakeOutputPath("dev", h, "hello-1.0")
	if err != nil {
		t.Fatal(err)
	}
	if out.Name() != "hello-1.0" || dev.Name() != "hello-1.0-dev" || out.HashPart() == dev.HashPart() {
		t.Errorf("output paths %s and %s are misnamed or collide", out, dev)
	}
	manual, _ := DefaultDir.MakeStorePath("output:dev", h, "hello-1.0-dev")
	if manual != dev {
		t.Errorf("MakeOutputPath(dev) = %s, want %s", dev, manual)
	}
}

func TestPathComputationErrors(t *testing.T) {
	dir := DefaultDir
	sha1 := nixhash.SumString(nixhash.SHA1, "")
	sha256 := nixhash.SumString(nixhash.SHA256, "")
	ref, _ := NewStorePath(sampleHashPart, "dep")
	tests := map[string]func() (StorePath, error){
		"text with sha1":   func() (StorePath, error) { return dir.MakeTextPath("x", sha1, nil) },
		"source with sha1": func() (StorePath, error) { return dir.MakeSourcePath("x", sha1, nil, false) },
		"flat fixed with refs": func() (StorePath, error) {
			return dir.MakeFixedOutputPath("x", FlatMethod, sha256, []StorePath{ref}, false)
		},
		"recursive sha1 with self": func() (StorePath, error) { return dir.MakeFixedOutputPath("x", RecursiveMethod, sha1, nil, true) },
		"text with self":           func() (StorePath, error) { return dir.MakeFixedOutputPath("x", TextMethod, sha256, nil, true) },
		"missing hash":             func() (StorePath, error) { return dir.MakeFixedOutputPath("x", FlatMethod, nixhash.Hash{}, nil, false) },
		"invalid name":             func() (StorePath, error) { return dir.MakeTextPath("a b", sha256, nil) },
		"dot name":                 func() (StorePath, error) { return dir.MakeStorePath("source", sha256, "..") },
		"zero hash":                func() (StorePath, error) { return dir.MakeOutputPath("out", nixhash.Hash{}, "x") },
	}
	for name, compute := range tests {
		if p, err := compute(); err == nil {
			t.Errorf("%s: got %s, want an error", name, p)
		}
	}
}

// TextPath and OutputPath give in one step what MakeTextPath and
// MakeOutputPath followed by Path give: the text paths Nix computed, with
// the references in any order, and the output paths of both namings.
func TestAbsolutePathsMatchMakePath(t *testing.T) {
	for _, file := range []string{"testdata/paths-nix-store.json", "testdata/paths-tmp-store.json"} {
		var golden pathsGolden
		readJSON(t, file, &golden)
		dir := golden.StoreDir
		for _, c := range golden.Text {
			refs := append([]string(nil), c.References...)
			for i, j := 0, len(refs)-1; i < j; i, j = i+1, j-1 {
				refs[i], refs[j] = refs[j], refs[i]
			}
			got, err := dir.TextPath(c.Name, nixhash.SumString(nixhash.SHA256, c.Contents), append(refs, refs...))
			if err != nil || got != c.Path {
				t.Errorf("%s: TextPath %q = %s, %v; Nix: %s", dir, c.Name, got, err, c.Path)
			}
		}
	}
	h := nixhash.SumString(nixhash.SHA256, "drv")
	for _, output := range []string{"out", "dev"} {
		p, err := DefaultDir.MakeOutputPath(output, h, "hello-1.0")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DefaultDir.OutputPath(output, h, "hello-1.0"); err != nil || got != DefaultDir.Path(p) {
			t.Errorf("OutputPath(%s) = %s, %v; want %s", output, got, err, DefaultDir.Path(p))
		}
	}
	sha256 := nixhash.SumString(nixhash.SHA256, "")
	a, _ := NewStorePath(sampleHashPart, "a")
	b, _ := NewStorePath(sampleHashPart, "b")
	want, err := DefaultDir.MakeTextPath("x.drv", sha256, []StorePath{a, b})
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{DefaultDir.Path(b), DefaultDir.Path(a), DefaultDir.Path(b)}
	if got, err := DefaultDir.TextPath("x.drv", sha256, refs); err != nil || got != DefaultDir.Path(want) {
		t.Errorf("TextPath with references = %s, %v; want %s", got, err, DefaultDir.Path(want))
	}
	for _, ref := range []string{"/nix/store/" + sampleHashPart + "-dep/", "/nix/store//" + sampleHashPart + "-dep", "/elsewhere/" + sampleHashPart + "-dep", "/nix/store/short"} {
		if p, err := DefaultDir.TextPath("x", sha256, []string{ref}); err == nil {
			t.Errorf("TextPath with reference %s = %s, want an error", ref, p)
		}
	}
	if p, err := DefaultDir.OutputPath("out", nixhash.Hash{}, "x"); err == nil {
		t.Errorf("OutputPath without a hash = %s, want an error", p)
	}
	if p, err := DefaultDir.TextPath("a b", sha256, nil); err == nil {
		t.Errorf("TextPath with an invalid name = %s, want an error", p)
	}
}
