package lang

import (
	"strings"
	"testing"
)

// A long line is shown as a window around the column, and the caret
// still points at the character the position names.
func TestSnippetOfLongLine(t *testing.T) {
	src := strings.Repeat("a + ", 500) + "BAD" + strings.Repeat(" + b", 500) + "\nnext\n"
	fset := NewFileSet()
	f := fset.AddFile("/long.nix", src)
	off := strings.Index(src, "BAD")
	d := &Diagnostic{Msg: "undefined variable 'BAD'", Pos: f.Pos(off)}
	out := d.Render(fset, false)
	lines := strings.Split(out, "\n")
	var code, caret string
	for i, l := range lines {
		if strings.Contains(l, "1| ") {
			code, caret = l, lines[i+1]
		}
	}
	if code == "" || len(code) > snippetWindow+40 {
		t.Fatalf("the line is not cut to a window:\n%s", out)
	}
	if !strings.Contains(code, "| …") || !strings.HasSuffix(code, "…") {
		t.Errorf("a cut line should show … at both ends: %q", code)
	}
	col := strings.Index(caret, "^")
	// The code line has "…" (3 bytes, one column) after "| ".
	if got := code[col+2 : col+5]; got != "BAD" {
		t.Errorf("the caret points at %q, want BAD:\n%s\n%s", got, code, caret)
	}
	if !strings.Contains(out, "2| next") {
		t.Errorf("the next line is missing:\n%s", out)
	}
}

// Short lines are shown whole, as Nix does.
func TestSnippetOfShortLine(t *testing.T) {
	fset := NewFileSet()
	f := fset.AddFile("/short.nix", "let x = y; in x\n")
	d := &Diagnostic{Msg: "undefined variable 'y'", Pos: f.Pos(8)}
	out := d.Render(fset, false)
	if !strings.Contains(out, "1| let x = y; in x\n") || strings.Contains(out, "…") {
		t.Errorf("a short line should be shown whole:\n%s", out)
	}
}
