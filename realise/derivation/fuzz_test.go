package derivation

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseDerivation checks that the parser never panics, and that whatever
// it accepts is canonical: writing it back reproduces the input exactly.
func FuzzParseDerivation(f *testing.F) {
	files, err := filepath.Glob("testdata/tmp-store/drv/*.drv")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed derivations: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(drvName(file), data)
	}
	f.Fuzz(func(t *testing.T, name string, text []byte) {
		d, err := Parse(testDir, name, text)
		if err != nil {
			return
		}
		if again := d.ATerm(); !bytes.Equal(again, text) {
			t.Fatalf("accepted non-canonical input:\n  in %q\n out %q", text, again)
		}
		if _, err := d.ComputePath(testDir); err != nil {
			t.Fatalf("ComputePath of a parsed derivation failed: %v", err)
		}
	})
}
