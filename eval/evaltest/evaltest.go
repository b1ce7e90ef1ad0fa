// Package evaltest runs tests written in the Nix language itself.
//
// A test file NAME.nixl evaluates to an attribute set of cases. A case is
// either an expression that must evaluate to true, or a set
// { expr = …; expected = …; } whose two values must be equal (==, after
// deep evaluation). `import <assert>` gives a small assert library
// (assert.nixl) for richer checks.
//
// A file NAME.errors.nixl holds chunks separated by lines starting with
// "---". Each chunk is an expression that must fail; a line
//
//	### "regexp"
//
// in the chunk gives a regular expression the rendered error (with its
// trace) must match. This follows go.starlark.net's chunked error files.
package evaltest

import (
	"bytes"
	"embed"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

//go:embed assert.nixl
var files embed.FS

// Options adjust the evaluator the tests run in.
type Options struct {
	Store eval.Store
	// Setup, if set, is called on the options before the evaluator is made.
	Setup func(*eval.Options)
}

// New makes an evaluator like the CLI's, for tests.
func New(t testing.TB, o Options) (*eval.Eval, *bytes.Buffer) {
	t.Helper()
	assertDir := t.TempDir()
	data, _ := files.ReadFile("assert.nixl")
	if err := os.WriteFile(filepath.Join(assertDir, "assert.nixl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sp := []eval.SearchPathEntry{{Prefix: "assert", Path: filepath.Join(assertDir, "assert.nixl")}}
	storeDir := "/nix/store"
	if o.Store != nil {
		storeDir = o.Store.Dir()
	}
	cfg := &builtins.Config{System: "x86_64-linux", CurrentTime: 1700000000, NixVersion: builtins.NixVersion, StoreDir: storeDir, SearchPath: sp}
	var stderr bytes.Buffer
	opts := eval.Options{
		Store:      o.Store,
		SearchPath: sp,
		ShowTrace:  true,
		Stderr:     &stderr,
		Home:       "/home/test",
		System:     "x86_64-linux",
		Builtins:   builtins.Builtins(cfg),
		Internal:   builtins.CorePkgs(),
	}
	if o.Setup != nil {
		o.Setup(&opts)
	}
	return eval.New(opts), &stderr
}

// RunDir runs every NAME.nixl and NAME.errors.nixl file in dir.
func RunDir(t *testing.T, dir string, o Options) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ent := range entries {
		name := ent.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".errors.nixl"):
			n++
			t.Run(strings.TrimSuffix(name, ".nixl"), func(t *testing.T) { RunErrorFile(t, path, o) })
		case strings.HasSuffix(name, ".nixl"):
			n++
			t.Run(strings.TrimSuffix(name, ".nixl"), func(t *testing.T) { RunFile(t, path, o) })
		}
	}
	if n == 0 {
		t.Fatalf("no .nixl tests in %s", dir)
	}
}

// RunFile runs the cases of one test file.
func RunFile(t *testing.T, path string, o Options) {
	e, stderr := New(t, o)
	abs, _ := filepath.Abs(path)
	v, err := e.EvalFile(abs, lang.NoPos)
	if err != nil {
		t.Fatalf("evaluating %s:\n%s", path, e.Render(err))
	}
	cases, err := e.ForceAttrs(v, lang.NoPos, "")
	if err != nil {
		t.Fatalf("%s must evaluate to a set of test cases:\n%s", path, e.Render(err))
	}
	if len(cases) == 0 {
		t.Fatalf("%s has no test cases", path)
	}
	for _, c := range cases.Lexicographic() {
		name := c.Name.String()
		t.Run(name, func(t *testing.T) {
			runCase(t, e, c.Value, stderr)
		})
	}
}

func runCase(t *testing.T, e *eval.Eval, v eval.Value, stderr *bytes.Buffer) {
	t.Helper()
	if err := e.Force(&v); err != nil {
		t.Fatalf("%s", e.Render(err))
	}
	if v.Kind() == eval.KindBool {
		if !v.BoolValue() {
			t.Fatalf("the case evaluated to false")
		}
		return
	}
	attrs, err := e.ForceAttrs(v, lang.NoPos, "")
	if err != nil {
		t.Fatalf("a case must be true or { expr; expected; }:\n%s", e.Render(err))
	}
	exprA, expA := attrs.Get(eval.Intern("expr")), attrs.Get(eval.Intern("expected"))
	if exprA == nil || expA == nil {
		t.Fatalf("a case set needs expr and expected")
	}
	got, want := exprA.Value, expA.Value
	for _, x := range []*eval.Value{&got, &want} {
		if err := e.ForceDeep(x, lang.NoPos); err != nil {
			t.Fatalf("%s", e.Render(err))
		}
	}
	eq, err := e.Equal(got, want, lang.NoPos)
	if err != nil {
		t.Fatalf("comparing: %s", e.Render(err))
	}
	if !eq {
		gs, _ := e.PrintValue(got, eval.PrintOptions{Force: true})
		ws, _ := e.PrintValue(want, eval.PrintOptions{Force: true})
		t.Fatalf("got      %s\nexpected %s", gs, ws)
	}
}

var wantRE = regexp.MustCompile(`(?m)^### (".*")\s*$`)

// RunErrorFile checks that every chunk of an errors file fails as stated.
func RunErrorFile(t *testing.T, path string, o Options) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	chunks := splitChunks(string(data))
	if len(chunks) == 0 {
		t.Fatalf("%s has no chunks", path)
	}
	for _, ch := range chunks {
		t.Run("line"+strconv.Itoa(ch.line), func(t *testing.T) {
			m := wantRE.FindStringSubmatch(ch.text)
			if m == nil {
				t.Fatalf("chunk at line %d has no ### \"regexp\" line", ch.line)
			}
			pattern, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("bad regexp literal %s: %v", m[1], err)
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := New(t, o)
			// Pad with newlines so that positions match the file, and
			// blank out the ### lines: a source excerpt in the error
			// must not show the expectation it is matched against.
			src := strings.Repeat("\n", ch.line-1) + wantRE.ReplaceAllString(ch.text, "")
			v, err := e.EvalString(abs, src, filepath.Dir(abs))
			if err == nil {
				err = e.ForceDeep(&v, lang.NoPos)
			}
			if err == nil {
				s, _ := e.PrintValue(v, eval.PrintOptions{Force: true})
				t.Fatalf("expected an error matching %q, got the value %s", pattern, s)
			}
			msg := e.Render(err)
			if !re.MatchString(msg) {
				t.Fatalf("error does not match %q:\n%s", pattern, msg)
			}
		})
	}
}

type chunk struct {
	line int
	text string
}

func splitChunks(s string) []chunk {
	var out []chunk
	lines := strings.Split(s, "\n")
	start := 0
	flush := func(end int) {
		text := strings.Join(lines[start:end], "\n")
		if strings.TrimSpace(stripComments(text)) != "" {
			out = append(out, chunk{line: start + 1, text: text})
		}
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "---") {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// SortedNames is a helper for deterministic iteration in tests.
func SortedNames(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
