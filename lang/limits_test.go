package lang

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// deepShapes are programs nested n levels deep in each way the grammar
// allows, including the ones that nest without brackets: left-associative
// operator chains, attribute paths, function bodies.
func deepShapes(n int) map[string]string {
	r := strings.Repeat
	return map[string]string{
		"parens":     r("(", n) + "1" + r(")", n),
		"lists":      r("[", n) + r("]", n),
		"attrs":      r("{a=", n) + "1" + r(";}", n),
		"rec-attrs":  r("rec {a=", n) + "1" + r(";}", n),
		"lets":       r("let a=", n) + "1" + r("; in a", n),
		"let-bodies": r("let a=1; in ", n) + "a",
		"lambdas":    r("x: ", n) + "x",
		"formals":    r("{ a ? ", n) + "1" + r(" }: a", n),
		"formal-fns": r("{ a }: ", n) + "a",
		"withs":      r("with {}; ", n) + "1",
		"asserts":    r("assert true; ", n) + "1",
		"ifs":        r("if true then ", n) + "1" + r(" else 1", n),
		"plus":       "1" + r(" + 1", n),
		"minus":      "1" + r(" - 1", n),
		"times":      "1" + r(" * 1", n),
		"and":        "true" + r(" && true", n),
		"or":         "true" + r(" || true", n),
		"concat":     "[]" + r(" ++ []", n),
		"update":     "{}" + r(" // {}", n),
		"impl":       "true" + r(" -> true", n),
		"not":        r("!", n) + "true",
		"negate":     r("-", n) + "1",
		"interp":     r(`"${`, n) + "1" + r(`}"`, n),
		"ind-interp": r("''${", n) + "1" + r("}''", n),
		"dyn-attrs":  r("{ ${", n) + `"a"` + r("} = 1; }", n),
		"select-or":  "a" + r(".b or a", n),
		"attr-path":  "{ a" + r(".a", n) + " = 1; }",
		"call-args":  r("(f ", n) + "1" + r(")", n),
		"list-calls": r("[ (f ", n) + r(") ]", n),
	}
}

// TestNestingLimit: whatever way a program nests, nesting beyond the
// parser's bound is a syntax error with a position, not a stack overflow
// in the parser or in what walks the tree afterwards (resolving,
// printing), and nesting within the bound parses.
func TestNestingLimit(t *testing.T) {
	tooDeep := regexp.MustCompile(`^f\.nix:1:\d+: expression nested too deeply \(more than 10000 levels\)$`)
	for name, src := range deepShapes(100_000) {
		t.Run(name, func(t *testing.T) {
			x, _, err := Parse(NewFileSet(), "f.nix", src, Config{})
			if err == nil || x != nil {
				t.Fatalf("parsed: %v", err)
			}
			if !tooDeep.MatchString(err.Error()) {
				t.Fatalf("error: %.200s", err.Error())
			}
			// Tolerant parsing (editors) stops at the same error.
			x, _, err = Parse(NewFileSet(), "f.nix", src, Config{Tolerant: true})
			if x == nil || err == nil || !strings.Contains(err.Error(), "nested too deeply") {
				t.Fatalf("tolerant: %v %.200v", x == nil, err)
			}
		})
	}
	for name, src := range deepShapes(2000) {
		t.Run("within/"+name, func(t *testing.T) {
			fset := NewFileSet()
			x, _, err := Parse(fset, "f.nix", src, Config{})
			if err != nil {
				t.Fatalf("%.300v", err)
			}
			Resolve(fset, x, NewStaticEnv(nil, []string{"a", "f"}), false)
			if src2 := ShowSource(x); src2 == "" {
				t.Fatal("no source")
			}
			_ = Show(x)
		})
	}
}

// TestNestingLimitConfig: MaxDepth sets the bound.
func TestNestingLimitConfig(t *testing.T) {
	src := strings.Repeat("[", 60) + strings.Repeat("]", 60)
	if _, _, err := Parse(NewFileSet(), "f.nix", src, Config{MaxDepth: 100}); err != nil {
		t.Fatal(err)
	}
	_, _, err := Parse(NewFileSet(), "f.nix", src, Config{MaxDepth: 50})
	if err == nil || err.Error() != "f.nix:1:50: expression nested too deeply (more than 50 levels)" {
		t.Fatalf("got %v", err)
	}
}

// TestLongRunsLexLinearly: a long run of identifier and path characters
// (a.b.c.d…) used to be rescanned from each token for a path or a URI;
// it must lex in linear time.
func TestLongRunsLexLinearly(t *testing.T) {
	for _, src := range []string{
		"x" + strings.Repeat(".a", 200_000),
		"{ a" + strings.Repeat(".a", 5000) + " = 1; }",
		"[ " + strings.Repeat("a.b-c_d.e ", 50_000) + "]",
	} {
		start := time.Now()
		if _, _, err := Parse(NewFileSet(), "f.nix", src, Config{}); err != nil {
			t.Fatalf("%.200v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%d bytes took %v", len(src), d)
		}
	}
	// The memo must not hide real paths and URIs further on.
	x, _, err := Parse(NewFileSet(), "f.nix", "[ a.b.c a.b/c http://x.y/z a.b ]", Config{BaseDir: "/d"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Show(x), `[ ((a).b.c) (/d/a.b/c) ("http://x.y/z") ((a).b) ]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
