package lang

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
)

// A small participle grammar over Nix tokens: a list of simple values.
type pList struct {
	Elems []*pElem `parser:"LBracket @@* RBracket"`
}

type pElem struct {
	Int   *string `parser:"  @Int"`
	Ident *string `parser:"| @Ident"`
	Str   *string `parser:"| Quote @Str? Quote"`
}

func TestParticipleLexerDefinition(t *testing.T) {
	p, err := participle.Build[pList](participle.Lexer(LexerDefinition{}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ParseString("x.nix", `[ 1 foo "bar" "" 42 ]`)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range got.Elems {
		switch {
		case e.Int != nil:
			parts = append(parts, "int:"+*e.Int)
		case e.Ident != nil:
			parts = append(parts, "id:"+*e.Ident)
		case e.Str != nil:
			parts = append(parts, "str:"+*e.Str)
		default:
			parts = append(parts, "str:")
		}
	}
	if s := strings.Join(parts, " "); s != "int:1 id:foo str:bar str: int:42" {
		t.Fatalf("got %s", s)
	}
	if _, err := p.ParseString("x.nix", `[ 1 ( ]`); err == nil || !strings.Contains(err.Error(), "1:5") {
		t.Fatalf("want an error at 1:5, got %v", err)
	}
}
