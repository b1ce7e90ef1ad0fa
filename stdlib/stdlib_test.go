package stdlib_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/realise/evalstore"
	"github.com/nixl-project/nixl/stdlib"
)

var update = flag.Bool("update", false, "rewrite the generated reference in docs/stdlib")

// newStore gives the evaluator the realiser's ComputeStore, as nixl eval
// does: store paths are computed, nothing is written.
func newStore() *evalstore.Compute { return evalstore.NewCompute("/nix/store") }

func options() evaltest.Options { return evaltest.Options{Store: newStore()} }

// TestLibrary runs the tests written in the language: tests/MODULE.nixl
// and tests/MODULE.errors.nixl.
func TestLibrary(t *testing.T) {
	evaltest.RunDir(t, "tests", options())
}

// testFile is the test file of each module.
func testFile(m *stdlib.Module) string {
	switch m.Name {
	case "build.trivial":
		return "builders.nixl"
	case "build.fetchers":
		return "fetchers.nixl"
	case "build.make-derivation":
		return "make-derivation.nixl"
	case "lib.fixedPoints":
		return "fixed-points.nixl"
	case "image":
		return "image.nixl"
	}
	return strings.TrimPrefix(m.Name, "lib.") + ".nixl"
}

// TestEveryFunctionTested checks that each module's test file uses each
// of its functions.
func TestEveryFunctionTested(t *testing.T) {
	mods, err := stdlib.Docs()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if len(m.Functions) == 0 {
			continue
		}
		file := filepath.Join("tests", testFile(m))
		data, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s has no tests: %v", m.Name, err)
			continue
		}
		src := string(data)
		for _, f := range m.Functions {
			re := regexp.MustCompile(`(^|[^A-Za-z0-9_'-])` + regexp.QuoteMeta(f.Name) + `($|[^A-Za-z0-9_'-])`)
			if !re.MatchString(src) {
				t.Errorf("%s is not tested in %s", f.Path(), file)
			}
		}
	}
}

// exampleScope is the expression that brings a module into scope for
// its examples.
func exampleScope(m *stdlib.Module) string {
	const top = `let nixl = import <nixl> { system = "x86_64-linux"; toolbox.busybox = ./fakebin/busybox; }; lib = nixl.lib; in `
	if m.IsLib() {
		return top + "with lib; with " + m.Name + "; "
	}
	if a := m.Attr(); a != "" {
		return top + "with lib; with nixl; with nixl." + a + "; "
	}
	return top + "with lib; with nixl; "
}

// TestDocExamples evaluates the examples of every doc comment and
// compares them with the results given.
func TestDocExamples(t *testing.T) {
	mods, err := stdlib.Docs()
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("tests")
	n := 0
	for _, m := range mods {
		for _, f := range m.Functions {
			for i, ex := range f.Examples {
				n++
				t.Run(fmt.Sprintf("%s/%d", f.Path(), i), func(t *testing.T) {
					e, _ := evaltest.New(t, options())
					src := exampleScope(m) + "(" + ex.Expr + "\n)"
					v, err := e.EvalString(m.File, src, dir)
					if err == nil {
						err = e.ForceDeep(&v, lang.NoPos)
					}
					where := fmt.Sprintf("%s:%d", m.File, ex.Line)
					if want, ok := strings.CutPrefix(ex.Result, "error:"); ok {
						want = strings.TrimSpace(want)
						if err == nil {
							s, _ := e.PrintValue(v, eval.PrintOptions{Force: true})
							t.Fatalf("%s: %s\nwanted an error containing %q, got %s", where, ex.Expr, want, s)
						}
						if msg := e.Render(err); !strings.Contains(msg, want) {
							t.Fatalf("%s: %s\nthe error does not contain %q:\n%s", where, ex.Expr, want, msg)
						}
						return
					}
					if err != nil {
						t.Fatalf("%s: %s\n%s", where, ex.Expr, e.Render(err))
					}
					if ex.Result == "" {
						return
					}
					w, err := e.EvalString(m.File, exampleScope(m)+"("+ex.Result+"\n)", dir)
					if err == nil {
						err = e.ForceDeep(&w, lang.NoPos)
					}
					if err != nil {
						t.Fatalf("%s: the expected result %s: %s", where, ex.Result, e.Render(err))
					}
					eq, err := e.Equal(v, w, lang.NoPos)
					if err != nil {
						t.Fatalf("%s: comparing: %s", where, e.Render(err))
					}
					if !eq {
						got, _ := e.PrintValue(v, eval.PrintOptions{Force: true})
						t.Fatalf("%s: %s\ngot      %s\nexpected %s", where, ex.Expr, got, ex.Result)
					}
				})
			}
		}
	}
	if n < 200 {
		t.Errorf("only %d doc examples", n)
	}
}

// TestDocsReference checks that docs/stdlib matches the doc comments
// (go test ./stdlib -run DocsReference -update rewrites it).
func TestDocsReference(t *testing.T) {
	mods, err := stdlib.Docs()
	if err != nil {
		t.Fatal(err)
	}
	pages := stdlib.Markdown(mods)
	dir := filepath.Join("..", "docs", "stdlib")
	if *update {
		old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		for _, p := range old {
			os.Remove(p)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, text := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for name, text := range pages {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(data) != text {
			t.Errorf("docs/stdlib/%s is out of date: run go test ./stdlib -run DocsReference -update", name)
		}
	}
	have, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, p := range have {
		if _, ok := pages[filepath.Base(p)]; !ok {
			t.Errorf("docs/stdlib/%s is not generated any more: run go test ./stdlib -run DocsReference -update", filepath.Base(p))
		}
	}
}

// TestSearchPath checks how <nixl> resolves.
func TestSearchPath(t *testing.T) {
	e, _ := evaltest.New(t, options())
	for expr, want := range map[string]string{
		`<nixl>`:                  eval.InternalDir + "/nixl/default.nixl",
		`<nixl/lib>`:              eval.InternalDir + "/nixl/lib/default.nixl",
		`<nixl/lib/strings.nixl>`: eval.InternalDir + "/nixl/lib/strings.nixl",
		`<nix/fetchurl.nix>`:      eval.InternalDir + "/fetchurl.nix",
	} {
		v, err := e.EvalString("«test»", "toString "+expr, "/")
		if err != nil {
			t.Fatalf("%s: %s", expr, e.Render(err))
		}
		if got := v.Str(); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
	// A search path entry for nixl wins over the built-in one.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "default.nix"), []byte(`"mine"`), 0o644)
	e2, _ := evaltest.New(t, evaltest.Options{Setup: func(o *eval.Options) {
		o.SearchPath = append(o.SearchPath, eval.SearchPathEntry{Prefix: "nixl", Path: dir})
		o.Builtins = builtins.Builtins(&builtins.Config{System: o.System, NixVersion: builtins.NixVersion, StoreDir: "/nix/store", SearchPath: o.SearchPath})
	}})
	v, err := e2.EvalString("«test»", "import <nixl>", "/")
	if err != nil {
		t.Fatal(e2.Render(err))
	}
	if err := e2.Force(&v); err != nil || v.Str() != "mine" {
		t.Errorf("an -I nixl=DIR entry does not override the built-in library")
	}
}

// TestNixAgrees instantiates the builders with C++ Nix, when it is
// installed, and checks that it computes the same derivations.
func TestNixAgrees(t *testing.T) {
	nix, err := exec.LookPath("nix-instantiate")
	if err != nil {
		t.Skip("nix-instantiate is not installed")
	}
	root, _ := filepath.Abs(".")
	tests, _ := filepath.Abs("tests")
	expr := fmt.Sprintf(`
	  let
	    nixl = import %s/default.nixl { system = "x86_64-linux"; toolbox.busybox = %s/fakebin/busybox; };
	    hello = nixl.writeShellScriptBin "hello" "echo hello";
	  in map (d: d.drvPath) [
	    nixl.toolbox
	    (nixl.writeText "t" "text")
	    hello
	    (nixl.runCommand "rc" { x = 1; } "echo $x > $out")
	    (nixl.symlinkJoin { name = "j"; paths = [ hello ]; })
	    (nixl.linkFarm "f" { a = hello; })
	    (nixl.mkDerivation { pname = "p"; version = "1"; buildInputs = [ hello ]; installPhase = "mkdir $out"; })
	    (nixl.fetchurl { url = "https://example.org/x"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; })
	    (nixl.fetchTarball { url = "https://example.org/x.tar.gz"; sha256 = "0000000000000000000000000000000000000000000000000000"; })
	  ]`, root, tests)
	cmd := exec.Command(nix, "--eval", "--strict", "--readonly-mode", "-E", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Skipf("nix-instantiate failed (%v): %s", err, stderr.String())
	}
	e, _ := evaltest.New(t, options())
	v, err := e.EvalString("«test»", expr, "/")
	if err == nil {
		err = e.ForceDeep(&v, lang.NoPos)
	}
	if err != nil {
		t.Fatal(e.Render(err))
	}
	got, _ := e.PrintValue(v, eval.PrintOptions{Force: true})
	if got != strings.TrimSpace(string(want)) {
		t.Errorf("nixl computes\n  %s\nNix computes\n  %s", got, want)
	}
}
