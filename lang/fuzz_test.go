package lang

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that the parser never panics, that tolerant parsing
// always yields a tree, and that a successful parse survives a round trip
// through the printer: parsing ShowSource(x) gives a tree that prints the
// same. (ShowSource is canonical: adjacent literal pieces of a string
// print as one, so the comparison is of printed forms.)
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/parse", "testdata/fuzz-seeds", "../../shared/conformance/nix-lang"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.nix"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add("{ a = 1.5e3; b = ./x/${y}/z; c = ''\n  x ${y}\n''; }")
	f.Fuzz(func(t *testing.T, src string) {
		cfg := Config{BaseDir: "/b", Home: "/h", MaxDepth: 500}
		x, _, err := Parse(NewFileSet(), "f.nix", src, cfg)
		cfg.Tolerant = true
		if tx, _, _ := Parse(NewFileSet(), "f.nix", src, cfg); tx == nil {
			t.Fatal("tolerant parse returned no tree")
		}
		if err != nil {
			return
		}
		src2 := ShowSource(x)
		cfg.Tolerant = false
		x2, _, err := Parse(NewFileSet(), "f2.nix", src2, cfg)
		if err != nil {
			t.Fatalf("printed form does not parse: %v\nsource: %q\nprinted: %s", err, src, src2)
		}
		if got := ShowSource(x2); got != src2 {
			t.Fatalf("round trip changed the tree\nsource: %q\nfirst:  %s\nsecond: %s", src, src2, got)
		}
		_ = Show(x2)
	})
}
