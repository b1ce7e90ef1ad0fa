package builtins_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
)

// TestPureEvalAllowedRoots checks that, in pure evaluation mode, every
// builtin that reads the file system refuses paths outside the allowed
// roots (what the caller allowed, the search path, store paths the
// evaluation holds), also through ".." and through symbolic links out of
// a root, and that impure evaluation reads them all.
func TestPureEvalAllowedRoots(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proj/data.txt", "inside\n")
	write("proj/lib.nix", "41 + 1\n")
	write("lib/x.nix", "\"from the search path\"\n")
	write("outside/secret", "secret\n")
	write("outside/x.nix", "\"outside\"\n")
	if err := os.Symlink("../outside", filepath.Join(dir, "proj/out")); err != nil {
		t.Fatal(err)
	}
	newEval := func(pure bool) *eval.Eval {
		sp := []eval.SearchPathEntry{{Prefix: "lib", Path: filepath.Join(dir, "lib")}}
		e := eval.New(eval.Options{
			Store:      newTestStore(),
			SearchPath: sp,
			PureEval:   pure,
			Builtins:   builtins.Builtins(&builtins.Config{System: "x86_64-linux", StoreDir: "/nix/store", SearchPath: sp}),
			Internal:   builtins.CorePkgs(),
		})
		e.AllowPath(filepath.Join(dir, "proj"))
		return e
	}
	out := filepath.Join(dir, "outside")
	forbidden := map[string]string{
		"readFile":           `builtins.readFile ` + out + `/secret`,
		"readFile-string":    `builtins.readFile "` + out + `/secret"`,
		"readFile-dotdot":    `builtins.readFile ` + dir + `/proj/../outside/secret`,
		"readFile-symlink":   `builtins.readFile ` + dir + `/proj/out/secret`,
		"readDir":            `builtins.readDir ` + out,
		"readDir-symlink":    `builtins.readDir ` + dir + `/proj/out`,
		"readFileType":       `builtins.readFileType ` + out + `/secret`,
		"hashFile":           `builtins.hashFile "sha256" ` + out + `/secret`,
		"import":             `import ` + out + `/x.nix`,
		"import-symlink":     `import ` + dir + `/proj/out/x.nix`,
		"scopedImport":       `scopedImport { } ` + out + `/x.nix`,
		"path":               `builtins.path { path = ` + out + `; }`,
		"path-symlink":       `builtins.path { path = ` + dir + `/proj/out; name = "x"; }`,
		"filterSource":       `builtins.filterSource (p: t: true) ` + out,
		"interpolation":      `"${` + out + `/secret}"`,
		"toJSON":             `builtins.toJSON ` + out + `/secret`,
		"derivation-attr":    `(derivation { name = "d"; system = "x"; builder = "/bin/sh"; src = ` + out + `/secret; }).drvPath`,
		"root":               `builtins.readDir /.`,
		"etc":                `builtins.readFile /etc/passwd`,
		"store-without-ctxt": `builtins.readFile "/nix/store/00000000000000000000000000000000-x"`,
	}
	for name, expr := range forbidden {
		t.Run("forbidden/"+name, func(t *testing.T) {
			_, err := newEval(true).EvalString("«test»", expr, dir)
			ee, ok := err.(*eval.Error)
			if !ok || ee.Kind != eval.ErrRestricted || !strings.Contains(ee.Msg, "is forbidden in pure eval mode (use '--impure' to override)") {
				t.Fatalf("%s: error %v, want an access error", expr, err)
			}
			// Impure evaluation reads it (or fails for another reason).
			if _, err := newEval(false).EvalString("«test»", expr, dir); err != nil {
				if ee, ok := err.(*eval.Error); ok && ee.Kind == eval.ErrRestricted {
					t.Errorf("impure: %v", err)
				}
			}
		})
	}
	allowed := map[string]string{
		`builtins.readFile ./proj/data.txt`:                                                     `"inside\n"`,
		`builtins.readFile ` + dir + `/proj/../proj/data.txt`:                                   `"inside\n"`,
		`import ./proj/lib.nix`:                                                                 `42`,
		`import <lib/x.nix>`:                                                                    `"from the search path"`,
		`builtins.pathExists ./proj/data.txt`:                                                   `true`,
		`builtins.pathExists ` + out + `/secret`:                                                `false`,
		`builtins.pathExists ` + dir + `/proj/out/secret`:                                       `false`,
		`builtins.attrNames (builtins.readDir ./proj)`:                                          `[ "data.txt" "lib.nix" "out" ]`,
		`builtins.readFileType ./proj/data.txt`:                                                 `"regular"`,
		`builtins.typeOf (builtins.path { path = ./proj/data.txt; })`:                           `"string"`,
		`builtins.typeOf (import <nix/fetchurl.nix>)`:                                           `"lambda"`,
		`builtins.hashFile "sha256" ./proj/data.txt == builtins.hashString "sha256" "inside\n"`: `true`,
	}
	for expr, want := range allowed {
		t.Run("allowed/"+expr, func(t *testing.T) {
			e := newEval(true)
			v, err := e.EvalString("«test»", expr, dir)
			if err == nil {
				err = e.ForceDeep(&v, 0)
			}
			if err != nil {
				t.Fatalf("%s: %v", expr, err)
			}
			got, err := e.PrintValue(v, eval.PrintOptions{})
			if err != nil || got != want {
				t.Errorf("%s = %s (%v), want %s", expr, got, err, want)
			}
		})
	}
}
