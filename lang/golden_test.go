package lang

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// testGlobals are the global names the golden tests resolve against.
var testGlobals = []string{"builtins", "true", "false", "null", "import", "toString", "map",
	"__sub", "__mul", "__div", "__lessThan", "__findFile", "__nixPath"}

// TestParseGolden parses testdata/parse/*.nix and compares the --parse
// form (or the error) with NAME.golden. Run with -update to rewrite.
func TestParseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/parse/*.nix")
	if len(files) == 0 {
		t.Fatal("no inputs")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fset := NewFileSet()
			name := filepath.Base(file)
			var got string
			x, _, err := Parse(fset, name, string(src), Config{BaseDir: "/base", Home: "/home/u"})
			if err == nil {
				if errs := Resolve(fset, x, NewStaticEnv(nil, testGlobals), false); len(errs) > 0 {
					err = errs
				}
			}
			if err != nil {
				got = err.(ErrorList)[0].Format(fset)
			} else {
				got = Show(x) + "\n"
			}
			golden := strings.TrimSuffix(file, ".nix") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
