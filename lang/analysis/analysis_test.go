package analysis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/lang/analysis"
)

func check(t *testing.T, src string) *analysis.File {
	t.Helper()
	return analysis.Check(lang.NewFileSet(), "t.nix", src, analysis.Config{Globals: builtins.Names(), BaseDir: "/base"})
}

func diags(f *analysis.File) string {
	var out []string
	for _, d := range f.Diagnostics {
		out = append(out, fmt.Sprintf("%d:%d-%d:%d %s %s: %s", d.Range.Start.Line, d.Range.Start.Col, d.Range.End.Line, d.Range.End.Col, d.Severity, d.Code, d.Message))
	}
	return strings.Join(out, "\n")
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"let a = 1; in a", ""},
		{"let a = 1; b = 2; in a", "1:12-1:13 warning unused-binding: unused let binding 'b'"},
		{"let _b = 2; in 1", ""},
		{"{ a, b }: a", "1:6-1:7 warning unused-formal: unused formal argument 'b'"},
		{"x: y", "1:4-1:5 error undefined-variable: undefined variable 'y'"},
		{"with {}; y", ""},
		{"let map = 1; in map", "1:5-1:8 warning shadowed-builtin: let binding 'map' shadows the builtin 'map'"},
		{"let inherit (builtins) map; in map", ""},
		{"toString: toString", "1:1-1:9 warning shadowed-builtin: function argument 'toString' shadows the builtin 'toString'"},
		{"{ a = 1; a = 2; }", "1:10-1:11 error duplicate-attribute: attribute 'a' already defined at t.nix:1:3"},
		{"{ a, a }: a", "1:6-1:7 error duplicate-formal: duplicate formal function argument 'a'"},
		{"let a = ; in a", "1:9-1:10 error syntax-error: syntax error, unexpected ';'\n1:11-1:13 error syntax-error: syntax error, unexpected 'in', expecting ';'"},
		{"{ a = 1", "1:8-1:8 error syntax-error: syntax error, unexpected end of file, expecting ';'\n1:8-1:8 error syntax-error: syntax error, unexpected end of file, expecting '}'"},
		{"let f = x: f x; in 1", "1:5-1:6 warning unused-binding: unused let binding 'f'"},
		{"rec { a = b; b = 1; }", ""},
		{"let a.b = 1; a.c = z; in a", "1:20-1:21 error undefined-variable: undefined variable 'z'"},
		{"builtins.lenght [ ]", "1:10-1:16 warning unknown-builtin: builtins has no attribute 'lenght'; did you mean length?"},
		{"[ builtins.length builtins.currentSystem builtins.builtins (builtins.nope or 1) ]", ""},
		{"if builtins ? getFlake then builtins.getFlake else null", ""},
		{"let builtins = { }; in builtins.x", "1:5-1:13 warning shadowed-builtin: let binding 'builtins' shadows the builtin 'builtins'"},
		{"with { builtins = 1; }; builtins.zzzzzzzz", "1:34-1:42 warning unknown-builtin: builtins has no attribute 'zzzzzzzz'"},
	} {
		f := check(t, tc.src)
		if got := diags(f); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// at returns the Pos of the n-th occurrence (from 1) of sub in f's source.
func at(f *analysis.File, sub string, n int) lang.Pos {
	src := f.File.Source()
	off := -1
	for i := 0; i < n; i++ {
		j := strings.Index(src[off+1:], sub)
		if j < 0 {
			panic("no " + sub)
		}
		off += 1 + j
	}
	return f.File.Pos(off)
}

func TestDefinition(t *testing.T) {
	src := `{ lib, x ? 1, ... }@args:
let
  a = { b.c = 1; d = 2; };
  inherit (a) d;
  r = rec { p = q; q = lib; };
in a.b.c + d + x + r.p + args.y`
	f := check(t, src)
	for _, tc := range []struct {
		sub  string
		n    int
		want string // name and position of the definition
	}{
		{"a.b.c", 1, "a 3:3"},
		{"b.c + d", 1, "b 3:9"},
		{"c + d", 1, "c 3:11"},
		{"d + x", 1, "d 4:15"},
		{"x + r", 1, "x 1:8"},
		{"q;", 1, "q 5:20"},
		{"lib;", 1, "lib 1:3"},
		{"args.y", 1, "args 1:21"},
		{"p + args", 1, "p 5:13"},
	} {
		tg, ok := f.Definition(at(f, tc.sub, tc.n))
		if !ok || tg.Def == nil {
			t.Errorf("%s: no definition", tc.sub)
			continue
		}
		posn := f.FileSet.Position(tg.Def.NameStart)
		if got := fmt.Sprintf("%s %d:%d", tg.Def.Name, posn.Line, posn.Col); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.sub, got, tc.want)
		}
	}
}

func TestScopeAndSymbols(t *testing.T) {
	src := `{ pkgs }:
let
  helper = x: x + 1;
  conf = { port = 80; nested = { deep = true; }; };
in with pkgs; {
  inherit conf;
  service = helper conf.port;
}`
	f := check(t, src)
	sc := f.ScopeAt(at(f, "helper conf", 1))
	var names []string
	for _, d := range sc.Defs {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, " "); got != "helper conf pkgs" {
		t.Errorf("scope: %s", got)
	}
	if len(sc.Withs) != 1 {
		t.Errorf("withs: %d", len(sc.Withs))
	}
	var show func(ss []analysis.Symbol) string
	show = func(ss []analysis.Symbol) string {
		var out []string
		for _, s := range ss {
			x := fmt.Sprintf("%s/%d", s.Name, s.Kind)
			if len(s.Children) > 0 {
				x += "(" + show(s.Children) + ")"
			}
			out = append(out, x)
		}
		return strings.Join(out, " ")
	}
	if got := show(f.Symbols()); got != "helper/1 conf/3(port/2 nested/3(deep/2)) conf/2 service/2" {
		t.Errorf("symbols: %s", got)
	}
}

func newEval() *eval.Eval {
	return eval.New(eval.Options{Builtins: builtins.Builtins(&builtins.Config{System: "x86_64-linux", StoreDir: "/nix/store"})})
}

// evalFocus parses src, focuses repl (parsed from text) at the position
// of the marker ‸ and evaluates the result.
func evalFocus(t *testing.T, src, repl string) string {
	t.Helper()
	e := newEval()
	off := strings.Index(src, "‸")
	src = strings.Replace(src, "‸", "", 1)
	x, file, _ := lang.Parse(e.FileSet(), "/t.nix", src, lang.Config{Tolerant: true, BaseDir: "/"})
	r, _, err := lang.Parse(e.FileSet(), "«repl»", repl, lang.Config{BaseDir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	focused := analysis.Focus(x, file.Pos(off), r)
	lang.Resolve(e.FileSet(), focused, e.BaseEnv(), true)
	v, err := e.EvalExpr(focused)
	if err == nil {
		err = e.ForceDeep(&v, lang.NoPos)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	s, _ := e.PrintValue(v, eval.PrintOptions{})
	return s
}

func TestFocus(t *testing.T) {
	for _, tc := range []struct{ src, repl, want string }{
		{"let a = 1; b = ‸a; in b", "a + 1", "2"},
		{"let a = 1; in rec { x = a; y = ‸x + 10; }", "[ x y ]", "[ 1 11 ]"},
		{"{ p ? 5, q }: { r = ‸p; }", "p", "5"},
		{"{ p ? 5, q }: { r = ‸p; }", "q", "error: nixl: unknown function argument 'q'"},
		{"let s = { z = 3; }; in with s; [ ‸z ]", "z * 2", "6"},
		{"let a = 1; in { inherit a; b = { c = ‸a; }; }", "a", "1"},
		{"let a = 1; in let a = 2; in ‸a", "a", "2"},
		{"let a = 1; b = (‸", "a", "1"},
	} {
		if got := evalFocus(t, tc.src, tc.repl); got != tc.want {
			t.Errorf("%s / %s: got %s, want %s", tc.src, tc.repl, got, tc.want)
		}
	}
}

func TestFocusOn(t *testing.T) {
	e := newEval()
	src := "x: let a = 2; b = { c = a * 3; }; in b"
	x, _, _ := lang.Parse(e.FileSet(), "/t.nix", src, lang.Config{BaseDir: "/"})
	var target lang.Expr
	lang.Inspect(x, func(n lang.Expr) bool {
		if b, ok := n.(*lang.BinaryOp); ok {
			target = b
		}
		return true
	})
	focused := analysis.FocusOn(x, target)
	lang.Resolve(e.FileSet(), focused, e.BaseEnv(), true)
	v, err := e.EvalExpr(focused)
	if err != nil || v.Kind() != eval.KindInt || v.IntValue() != 6 {
		t.Fatalf("got %v %v", v, err)
	}
}

func TestJSONSeverity(t *testing.T) {
	d := analysis.Diagnostic{Severity: analysis.SeverityWarning}
	b, _ := d.Severity.MarshalJSON()
	if string(b) != `"warning"` {
		t.Fatal(string(b))
	}
}
