package repl

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
)

type fakeBuilder map[string]string

func (b fakeBuilder) Build(drvPath string) (map[string]string, error) { return b, nil }

func newSession(t *testing.T, dir string) (*Session, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	s, err := New(Options{
		NewEval: func() (*eval.Eval, error) {
			return eval.New(eval.Options{
				Builtins: builtins.Builtins(&builtins.Config{System: "x86_64-linux", StoreDir: "/nix/store"}),
				Stderr:   &errOut,
			}), nil
		},
		Stdout: &out, Stderr: &errOut, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, &out, &errOut
}

// script is a LineReader over fixed lines.
type script struct {
	lines   []string
	prompts []string
}

func (s *script) ReadLine(prompt string) (string, error) {
	s.prompts = append(s.prompts, prompt)
	if len(s.lines) == 0 {
		return "", io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	if l == "^C" {
		return "", ErrInterrupt
	}
	return l, nil
}

func TestSession(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lib.nix"), []byte("{ greeting ? \"hi\" }: {\n  hello = name: \"${greeting} ${name}\";\n  answer = 42;\n}\n"), 0o644)
	s, out, errOut := newSession(t, dir)
	sc := &script{lines: []string{
		"x = 20",
		"x * 2 + 2",
		":t x",
		":t builtins.map",
		"{ a = 1; b = x; c = { d = 1; }; s = \"str\"; }",
		"let",
		"  y = 3;",
		"in",
		"  y * x",
		"nope + 1",
		"[ (1 + 1) ]",
		":p { a.b.c = [ 1 (1 + 1) ]; }",
		":l lib.nix",
		"hello \"world\"",
		":a { extra = answer + 1; }",
		"extra",
		"let a = 1;",
		"^C",
		"\"still here\"",
		"map = 3",
		"map",
		":b 1",
		`:b { type = "derivation"; drvPath = "/nix/store/aaaa-x.drv"; }`,
		":doc map",
		":frob",
		":q",
		"\"not reached\"",
	}}
	if err := Run(s, sc); err != nil {
		t.Fatal(err)
	}
	o := out.String()
	for _, want := range []string{
		"42\n\n",
		"an integer\n",
		"the built-in function 'map'\n",
		`{ a = 1; b = 20; c = «thunk»; s = "str"; }`,
		"60\n\n",
		"[ «thunk» ]",
		`{ a = { b = { c = [ 1 2 ]; }; }; }`,
		"Loading 'lib.nix'...\nAdded 2 variables.\n",
		`"hi world"`,
		"Added 1 variables.\n",
		"43\n\n",
		`"still here"`,
		"3\n\n",
		"Synopsis: builtins.map f list",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "not reached") {
		t.Error(":q did not quit")
	}
	e := errOut.String()
	for _, want := range []string{
		"error: undefined variable 'nope'",
		"at «string»:1:1:",
		"expression does not evaluate to a derivation",
		"building is not available yet",
		"unknown command ':frob'",
	} {
		if !strings.Contains(e, want) {
			t.Errorf("errors lack %q:\n%s", want, e)
		}
	}
	// The let was continued over three lines, the dropped one over one.
	cont := strings.Repeat(" ", len(Prompt))
	n := 0
	for _, p := range sc.prompts {
		if p == cont {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d continuation prompts, want 4", n)
	}
}

func TestBuilder(t *testing.T) {
	s, out, errOut := newSession(t, t.TempDir())
	s.opts.Builder = fakeBuilder{"out": "/nix/store/aaaa-x"}
	s.Exec(`:b { type = "derivation"; drvPath = "/nix/store/aaaa-x.drv"; }`)
	if !strings.Contains(out.String(), "out -> /nix/store/aaaa-x") {
		t.Errorf("got %q %q", out.String(), errOut.String())
	}
}

func TestDerivationPrinting(t *testing.T) {
	s, out, errOut := newSession(t, t.TempDir())
	s.Exec(`{ d = { type = "derivation"; drvPath = "/nix/store/aaaa-x.drv"; }; }.d`)
	if out.String() != "«derivation /nix/store/aaaa-x.drv»\n\n" {
		t.Errorf("got %q %q", out.String(), errOut.String())
	}
	out.Reset()
	s.Exec(`[ { type = "derivation"; drvPath = "/nix/store/bbbb-y.drv"; } ]`)
	if out.String() != "[ «thunk» ]\n\n" {
		t.Errorf("got %q %q", out.String(), errOut.String())
	}
	out.Reset()
	s.Exec(`let l = [ { type = "derivation"; drvPath = "/nix/store/bbbb-y.drv"; } ]; in builtins.seq (builtins.head l) l`)
	if out.String() != "[ «derivation /nix/store/bbbb-y.drv» ]\n\n" {
		t.Errorf("got %q %q", out.String(), errOut.String())
	}
	out.Reset()
	s.Exec(`x: x`)
	if got := out.String(); got != "«lambda @ «string»:1:1»\n\n" {
		t.Errorf("got %q", got)
	}
}

func TestIncomplete(t *testing.T) {
	s, _, _ := newSession(t, t.TempDir())
	for src, want := range map[string]bool{
		"1 +":           true,
		"let a = 1;":    true,
		"{ a = 1;":      true,
		"\"abc":         true,
		"''abc":         true,
		"x = [ 1":       true,
		":p {":          true,
		"1 + 1":         false,
		"1 )":           false,
		":q":            false,
		"let a = 1; in": true,
		"":              false,
	} {
		if got := s.Incomplete(src); got != want {
			t.Errorf("Incomplete(%q) = %v", src, got)
		}
	}
}

func TestComplete(t *testing.T) {
	s, _, _ := newSession(t, t.TempDir())
	s.Exec(`pkgs = { hello = 1; hellish = 2; "with-dash" = 3; nested = { deep = 1; }; }`)
	for _, tc := range []struct {
		line  string
		start int
		want  string
	}{
		{"builtins.foldl", 0, "builtins.foldl'"},
		{"1 + pk", 4, "pkgs"},
		{"pkgs.hel", 0, "pkgs.hellish pkgs.hello"},
		{"pkgs.nested.d", 0, "pkgs.nested.deep"},
		{"pkgs.w", 0, "pkgs.with-dash"},
		{":do", 0, ":doc"},
		{":doc foldl", 5, "foldl'"},
		{"mapAttr", 0, ""},
		{"builtins.mapAttr", 0, "builtins.mapAttrs"},
		{"toStr", 0, "toString"},
	} {
		start, got := s.Complete(tc.line, len(tc.line))
		if start != tc.start || strings.Join(got, " ") != tc.want {
			t.Errorf("Complete(%q) = %d %q, want %d %q", tc.line, start, got, tc.start, tc.want)
		}
	}
}

func TestCompletionBudget(t *testing.T) {
	s, _, _ := newSession(t, t.TempDir())
	s.opts.CompletionBudget = 100 * time.Millisecond
	s.Exec(`slow = builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 10000)) 0 (builtins.genList (x: x) 10000)`)
	start := time.Now()
	_, got := s.Complete("slow.x", 6)
	if len(got) != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("got %v after %v", got, time.Since(start))
	}
	// The session still works, and slow was not spoilt by the interrupt.
	if _, err := s.EvalString("1 + 1"); err != nil {
		t.Fatal(err)
	}
}

func TestInterrupt(t *testing.T) {
	s, _, errOut := newSession(t, t.TempDir())
	go func() {
		time.Sleep(200 * time.Millisecond)
		s.Interrupt()
	}()
	start := time.Now()
	s.Exec(`builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 10000)) 0 (builtins.genList (x: x) 10000)`)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if !strings.Contains(errOut.String(), "error: interrupted by the user") {
		t.Errorf("got %q", errOut.String())
	}
	errOut.Reset()
	s.Exec("1 + 1")
	if errOut.Len() > 0 {
		t.Errorf("after interrupt: %q", errOut.String())
	}
}

func TestEditAndReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.nix")
	os.WriteFile(file, []byte("{\n  v = 1;\n  f =\n    x: x;\n}\n"), 0o644)
	s, out, errOut := newSession(t, dir)
	var opened string
	var line int
	s.opts.Editor = func(f string, l int) error {
		opened, line = f, l
		return os.WriteFile(file, []byte("{\n  v = 2;\n  f =\n    x: x;\n}\n"), 0o644)
	}
	s.Exec(":l f.nix")
	s.Exec(":e f")
	if opened != file || line != 4 {
		t.Errorf("opened %s:%d", opened, line)
	}
	out.Reset()
	s.Exec("v")
	if out.String() != "2\n\n" {
		t.Errorf("after :e, v = %q (%s)", out.String(), errOut.String())
	}
	s.Exec(":e 1")
	if !strings.Contains(errOut.String(), "cannot find where an integer is defined") {
		t.Errorf("got %q", errOut.String())
	}
}

// TestLibraryDoc: :doc of an attribute path the library documents shows
// the library's documentation, even when the value is a builtin applied
// to arguments; builtins keep theirs, and bare names are not asked.
func TestLibraryDoc(t *testing.T) {
	var out, errOut bytes.Buffer
	var asked []string
	s, err := New(Options{
		NewEval: func() (*eval.Eval, error) {
			return eval.New(eval.Options{
				Builtins: builtins.Builtins(&builtins.Config{System: "x86_64-linux", StoreDir: "/nix/store"}),
				Stderr:   &errOut,
			}), nil
		},
		LibraryDoc: func(path string) (string, bool) {
			asked = append(asked, path)
			if path == "pkgs.lib.strings.toUpper" {
				return "lib.strings.toUpper: upper case\n", true
			}
			return "", false
		},
		Stdout: &out, Stderr: &errOut, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sc := &script{lines: []string{
		`pkgs = { lib.strings.toUpper = builtins.replaceStrings [ "a" ] [ "A" ]; }`,
		":doc pkgs.lib.strings.toUpper",
		":doc map",
		":doc pkgs.lib.strings",
		":doc f",
	}}
	if err := Run(s, sc); err != nil {
		t.Fatal(err)
	}
	o := out.String()
	if !strings.Contains(o, "lib.strings.toUpper: upper case") || strings.Contains(o, "builtins.replaceStrings") {
		t.Errorf("library doc not shown first:\n%s", o)
	}
	if !strings.Contains(o, "Synopsis: builtins.map f list") {
		t.Errorf("builtin doc missing:\n%s", o)
	}
	if want := "pkgs.lib.strings.toUpper pkgs.lib.strings"; strings.Join(asked, " ") != want {
		t.Errorf("asked the library for %q, want %q", strings.Join(asked, " "), want)
	}
	if e := errOut.String(); !strings.Contains(e, "no documentation found for 'pkgs.lib.strings'") || !strings.Contains(e, "no documentation found for 'f'") {
		t.Errorf("errors: %s", e)
	}
}
