package lang

// TokenKind is the kind of a lexical token.
type TokenKind uint8

// The token kinds. Single-character tokens are named after the character.
const (
	EOF     TokenKind = iota
	ILLEGAL           // a byte that starts no token
	ID
	INT
	FLOAT
	STR      // a piece of string text, already unescaped
	IND_STR  // a piece of indented-string text
	PATH     // ./a, a/b, /a, and the first segment of an interpolated path
	HPATH    // ~/a
	SPATH    // <a/b>
	URI      // http://x
	PATH_END // end of an interpolated path (zero width)
	DOLLAR_CURLY
	IND_STRING_OPEN
	IND_STRING_CLOSE
	QUOTE // "

	IF
	THEN
	ELSE
	ASSERT
	WITH
	LET
	IN
	REC
	INHERIT
	OR_KW
	ELLIPSIS

	EQ        // ==
	NEQ       // !=
	LEQ       // <=
	GEQ       // >=
	AND       // &&
	OR        // ||
	IMPL      // ->
	UPDATE    // //
	CONCAT    // ++
	PIPE_FROM // <|
	PIPE_INTO // |>

	LPAREN
	RPAREN
	LBRACE
	RBRACE
	LBRACKET
	RBRACKET
	SEMI
	COLON
	DOT
	COMMA
	AT
	QUESTION
	ASSIGN
	NOT
	PLUS
	MINUS
	STAR
	SLASH
	LT
	GT

	numTokenKinds
)

// tokenNames are the names used in syntax errors; they follow Nix's wording
// so that messages read the same.
var tokenNames = [numTokenKinds]string{
	EOF:              "end of file",
	ILLEGAL:          "invalid token",
	ID:               "identifier",
	INT:              "integer",
	FLOAT:            "floating-point literal",
	STR:              "string",
	IND_STR:          "indented string",
	PATH:             "path",
	HPATH:            "'~/…' path",
	SPATH:            "'<…>' path",
	URI:              "URI",
	PATH_END:         "end of path",
	DOLLAR_CURLY:     "'${'",
	IND_STRING_OPEN:  "start of an indented string",
	IND_STRING_CLOSE: "end of an indented string",
	QUOTE:            "'\"'",
	IF:               "'if'",
	THEN:             "'then'",
	ELSE:             "'else'",
	ASSERT:           "'assert'",
	WITH:             "'with'",
	LET:              "'let'",
	IN:               "'in'",
	REC:              "'rec'",
	INHERIT:          "'inherit'",
	OR_KW:            "'or'",
	ELLIPSIS:         "'...'",
	EQ:               "'=='",
	NEQ:              "'!='",
	LEQ:              "'<='",
	GEQ:              "'>='",
	AND:              "'&&'",
	OR:               "'||'",
	IMPL:             "'->'",
	UPDATE:           "'//'",
	CONCAT:           "'++'",
	PIPE_FROM:        "'<|'",
	PIPE_INTO:        "'|>'",
	LPAREN:           "'('",
	RPAREN:           "')'",
	LBRACE:           "'{'",
	RBRACE:           "'}'",
	LBRACKET:         "'['",
	RBRACKET:         "']'",
	SEMI:             "';'",
	COLON:            "':'",
	DOT:              "'.'",
	COMMA:            "','",
	AT:               "'@'",
	QUESTION:         "'?'",
	ASSIGN:           "'='",
	NOT:              "'!'",
	PLUS:             "'+'",
	MINUS:            "'-'",
	STAR:             "'*'",
	SLASH:            "'/'",
	LT:               "'<'",
	GT:               "'>'",
}

func (k TokenKind) String() string {
	if k < numTokenKinds {
		return tokenNames[k]
	}
	return "invalid token"
}

// keywordKind returns the keyword token for s, or ID.
func keywordKind(s string) TokenKind {
	switch s {
	case "if":
		return IF
	case "then":
		return THEN
	case "else":
		return ELSE
	case "assert":
		return ASSERT
	case "with":
		return WITH
	case "let":
		return LET
	case "in":
		return IN
	case "rec":
		return REC
	case "inherit":
		return INHERIT
	case "or":
		return OR_KW
	}
	return ID
}

// Token is one lexical token. Offsets are byte offsets into the file.
type Token struct {
	Kind  TokenKind
	Start int
	End   int
	// Text is the token's value: the identifier, the digits of a number,
	// the unescaped string piece, or the path text.
	Text string
	// Raw marks an IND_STR piece that is literal source text (subject to
	// indentation stripping), as opposed to one produced by an escape.
	Raw bool
	// Err, for ILLEGAL tokens, says what is wrong when there is more to
	// say than "unexpected invalid token".
	Err string
}
