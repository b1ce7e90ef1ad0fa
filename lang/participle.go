package lang

import (
	"io"

	plexer "github.com/alecthomas/participle/v2/lexer"
)

// LexerDefinition adapts the Nix lexer to participle's lexer.Definition,
// so that participle grammars can be written over Nix tokens (the
// reference grammar in the tests is one).
type LexerDefinition struct{}

// Symbols maps token names to participle token types. Token types are
// the TokenKind values shifted past participle's reserved negative range.
func (LexerDefinition) Symbols() map[string]plexer.TokenType {
	m := map[string]plexer.TokenType{"EOF": plexer.EOF}
	for k := TokenKind(0); k < numTokenKinds; k++ {
		if k == EOF {
			continue
		}
		m[tokenSymbol(k)] = plexer.TokenType(k)
	}
	return m
}

// tokenSymbol is the name participle grammars use for a token kind.
func tokenSymbol(k TokenKind) string {
	return [numTokenKinds]string{
		EOF: "EOF", ILLEGAL: "Illegal", ID: "Ident", INT: "Int", FLOAT: "Float", STR: "Str",
		IND_STR: "IndStr", PATH: "Path", HPATH: "HPath", SPATH: "SPath", URI: "URI",
		PATH_END: "PathEnd", DOLLAR_CURLY: "DollarCurly", IND_STRING_OPEN: "IndOpen",
		IND_STRING_CLOSE: "IndClose", QUOTE: "Quote", IF: "If", THEN: "Then", ELSE: "Else",
		ASSERT: "Assert", WITH: "With", LET: "Let", IN: "In", REC: "Rec", INHERIT: "Inherit",
		OR_KW: "OrKw", ELLIPSIS: "Ellipsis", EQ: "Eq", NEQ: "Neq", LEQ: "Leq", GEQ: "Geq",
		AND: "And", OR: "Or", IMPL: "Impl", UPDATE: "Update", CONCAT: "Concat",
		PIPE_FROM: "PipeFrom", PIPE_INTO: "PipeInto", LPAREN: "LParen", RPAREN: "RParen",
		LBRACE: "LBrace", RBRACE: "RBrace", LBRACKET: "LBracket", RBRACKET: "RBracket",
		SEMI: "Semi", COLON: "Colon", DOT: "Dot", COMMA: "Comma", AT: "At",
		QUESTION: "Question", ASSIGN: "Assign", NOT: "Not", PLUS: "Plus", MINUS: "Minus",
		STAR: "Star", SLASH: "Slash", LT: "Lt", GT: "Gt",
	}[k]
}

// Lex reads all of r and returns a participle lexer over its tokens.
func (LexerDefinition) Lex(filename string, r io.Reader) (plexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f := NewFileSet().AddFile(filename, string(src))
	return &participleLexer{lx: NewLexer(string(src)), file: f}, nil
}

type participleLexer struct {
	lx   *Lexer
	file *File
}

func (l *participleLexer) Next() (plexer.Token, error) {
	t := l.lx.Next()
	posn := l.file.Position(t.Start)
	tok := plexer.Token{
		Type:  plexer.TokenType(t.Kind),
		Value: t.Text,
		Pos:   plexer.Position{Filename: l.file.Name(), Offset: t.Start, Line: posn.Line, Column: posn.Col},
	}
	if t.Kind == EOF {
		tok.Type = plexer.EOF
	}
	return tok, nil
}
