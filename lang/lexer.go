package lang

import "strings"

// lexState is a start condition of the lexer, as in Nix's flex lexer:
// the text after a double quote, an indented-string opener or a path segment is lexed differently, and
// `${` / `{` / `}` push and pop these states.
type lexState uint8

const (
	stInitial lexState = iota // bottom of the stack only
	stDefault
	stString
	stIndString
	stInPath      // after a path piece that did not end in '/'
	stInPathSlash // after a path piece ending in '/': must be followed by ${ or more path
)

// Lexer turns source text into tokens. It never fails: bad input becomes
// ILLEGAL tokens and the parser reports them.
type Lexer struct {
	src   string
	pos   int
	stack []lexState
	// noPath and noURI remember a run of characters in which no path
	// (no URI) starts: [from, to). A match attempt from inside the run
	// scans to its same end and fails the same way, so remembering it
	// keeps lexing linear on long runs such as a.b.c.d….
	noPath, noURI struct{ from, to int }
}

// NewLexer returns a lexer for src.
func NewLexer(src string) *Lexer {
	return &Lexer{src: src, stack: make([]lexState, 1, 16)}
}

func (l *Lexer) state() lexState { return l.stack[len(l.stack)-1] }
func (l *Lexer) push(s lexState) { l.stack = append(l.stack, s) }
func (l *Lexer) pop() {
	if len(l.stack) > 1 {
		l.stack = l.stack[:len(l.stack)-1]
	}
}

// Character classes, one bit each in charClass: the lexer tests them in
// its inner loops, where a table lookup beats a chain of comparisons.
const (
	cIDStart = 1 << iota // [a-zA-Z_]
	cIDChar              // [a-zA-Z0-9_'-]
	cDigit               // [0-9]
	cPath                // [a-zA-Z0-9._+-]
	cScheme              // [a-zA-Z0-9+.-]
	cURI                 // [a-zA-Z0-9%/?:@&=+$,_.!~*'-]
	cSpace               // [ \t\r\n]
)

var charClass = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' {
			t[i] |= cIDStart
		}
		if alnum || c == '_' || c == '\'' || c == '-' {
			t[i] |= cIDChar
		}
		if c >= '0' && c <= '9' {
			t[i] |= cDigit
		}
		if alnum || c == '.' || c == '_' || c == '-' || c == '+' {
			t[i] |= cPath
		}
		if alnum || c == '+' || c == '-' || c == '.' {
			t[i] |= cScheme
		}
		if alnum || strings.IndexByte("%/?:@&=+$,-_.!~*'", c) >= 0 {
			t[i] |= cURI
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			t[i] |= cSpace
		}
	}
	return t
}()

func isIDStart(c byte) bool       { return charClass[c]&cIDStart != 0 }
func isIDChar(c byte) bool        { return charClass[c]&cIDChar != 0 }
func isDigit(c byte) bool         { return charClass[c]&cDigit != 0 }
func isPathChar(c byte) bool      { return charClass[c]&cPath != 0 }
func isURISchemeChar(c byte) bool { return charClass[c]&cScheme != 0 }
func isURIChar(c byte) bool       { return charClass[c]&cURI != 0 }

// Next returns the next token.
func (l *Lexer) Next() Token {
	var t Token
	l.scan(&t)
	return t
}

// scan lexes the next token into *t. The parser scans into its current
// token in place: a Token is large, and returning it by value through the
// lexing functions cost a copy at each level.
func (l *Lexer) scan(t *Token) {
	switch l.state() {
	case stString:
		l.lexString(t)
	case stIndString:
		l.lexIndString(t)
	case stInPath, stInPathSlash:
		l.lexInPath(t)
	default:
		l.lexDefault(t)
	}
}

// skipSpace skips whitespace and comments.
func (l *Lexer) skipSpace() {
	src := l.src
	for l.pos < len(src) {
		// Runs of blanks (indentation) first, in a tight loop.
		i := l.pos
		for i < len(src) && charClass[src[i]]&cSpace != 0 {
			i++
		}
		l.pos = i
		if i == len(src) {
			return
		}
		switch c := src[l.pos]; c {
		case '#':
			for l.pos < len(src) && src[l.pos] != '\n' && src[l.pos] != '\r' {
				l.pos++
			}
		case '/':
			if l.pos+1 < len(src) && src[l.pos+1] == '*' {
				end := strings.Index(src[l.pos+2:], "*/")
				if end < 0 {
					return // lexed as '/' '*', like flex does
				}
				l.pos += 2 + end + 2
				continue
			}
			return
		default:
			return
		}
	}
}

// tok sets *t to a token of the given kind from start to the current
// position.
func (l *Lexer) tok(t *Token, kind TokenKind, start int) {
	// Field by field: a composite literal is built on the stack first
	// and then copied.
	t.Kind, t.Start, t.End, t.Text = kind, start, l.pos, l.src[start:l.pos]
	t.Raw = false
	if t.Err != "" {
		t.Err = ""
	}
}

func (l *Lexer) lexDefault(t *Token) {
	l.skipSpace()
	src := l.src
	start := l.pos
	if start >= len(src) {
		*t = Token{Kind: EOF, Start: start, End: start}
		return
	}
	c := src[start]

	// Paths and URIs compete with identifiers and numbers on the longest
	// match, as in flex.
	if isDigit(c) {
		// Likewise a number is no path when its digits are followed by
		// neither a path character nor a '/'.
		i := start + 1
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		if i == len(src) || !isPathChar(src[i]) && src[i] != '/' {
			l.lexNumber(t, start)
			return
		}
	}
	if isIDStart(c) {
		// Most identifiers are followed by a character that can continue
		// neither a path nor a URI: a path needs a '/' after its first
		// run of path characters, a URI a ':' after its scheme, and the
		// only characters of those runs that are not identifier
		// characters are '.' and '+'. Then the identifier is the longest
		// match, found without trying the other two.
		i := start + 1
		for i < len(src) && isIDChar(src[i]) {
			i++
		}
		if i == len(src) || !mayContinuePathOrURI(src[i]) {
			l.pos = i
			l.ident(t, start)
			return
		}
	}
	if isPathChar(c) || c == '/' {
		if n := l.matchPath(start); n > 0 {
			l.lexPathStart(t, start, n)
			return
		}
	}
	if c == '~' && start+1 < len(src) && src[start+1] == '/' {
		n := 1
		for {
			i := start + n
			if i < len(src) && src[i] == '/' && i+1 < len(src) && isPathChar(src[i+1]) {
				n++
				for start+n < len(src) && isPathChar(src[start+n]) {
					n++
				}
				continue
			}
			break
		}
		if n > 1 {
			if start+n < len(src) && src[start+n] == '/' {
				n++
			}
			l.pos = start + n
			if src[l.pos-1] == '/' {
				l.push(stInPathSlash)
			} else {
				l.push(stInPath)
			}
			l.tok(t, HPATH, start)
			return
		}
		if start+2 < len(src) && src[start+2] == '$' && start+3 < len(src) && src[start+3] == '{' {
			l.pos = start + 2
			l.push(stInPathSlash)
			l.tok(t, HPATH, start)
			return
		}
	}
	if isIDStart(c) {
		if n := l.matchURI(start); c != '_' && n > 0 {
			l.pos = start + n
			l.tok(t, URI, start)
			return
		}
		i := start + 1
		for i < len(src) && isIDChar(src[i]) {
			i++
		}
		l.pos = i
		l.ident(t, start)
		return
	}
	if isDigit(c) || c == '.' && start+1 < len(src) && isDigit(src[start+1]) {
		l.lexNumber(t, start)
		return
	}

	l.pos++
	next := byte(0)
	if l.pos < len(src) {
		next = src[l.pos]
	}
	switch c {
	case '"':
		l.push(stString)
		l.tok(t, QUOTE, start)
		return
	case '\'':
		if next == '\'' {
			l.pos++
			// Spaces followed by a newline right after the opening quotes
			// belong to the delimiter.
			i := l.pos
			for i < len(src) && src[i] == ' ' {
				i++
			}
			if i < len(src) && src[i] == '\n' {
				l.pos = i + 1
			}
			l.push(stIndString)
			l.tok(t, IND_STRING_OPEN, start)
			return
		}
	case '$':
		if next == '{' {
			l.pos++
			l.push(stDefault)
			l.tok(t, DOLLAR_CURLY, start)
			return
		}
	case '{':
		l.push(stDefault)
		l.tok(t, LBRACE, start)
		return
	case '}':
		l.pop()
		l.tok(t, RBRACE, start)
		return
	case '(':
		l.tok(t, LPAREN, start)
		return
	case ')':
		l.tok(t, RPAREN, start)
		return
	case '[':
		l.tok(t, LBRACKET, start)
		return
	case ']':
		l.tok(t, RBRACKET, start)
		return
	case ';':
		l.tok(t, SEMI, start)
		return
	case ':':
		l.tok(t, COLON, start)
		return
	case ',':
		l.tok(t, COMMA, start)
		return
	case '@':
		l.tok(t, AT, start)
		return
	case '?':
		l.tok(t, QUESTION, start)
		return
	case '.':
		if next == '.' && l.pos+1 < len(src) && src[l.pos+1] == '.' {
			l.pos += 2
			l.tok(t, ELLIPSIS, start)
			return
		}
		l.tok(t, DOT, start)
		return
	case '=':
		if next == '=' {
			l.pos++
			l.tok(t, EQ, start)
			return
		}
		l.tok(t, ASSIGN, start)
		return
	case '!':
		if next == '=' {
			l.pos++
			l.tok(t, NEQ, start)
			return
		}
		l.tok(t, NOT, start)
		return
	case '<':
		if next == '=' {
			l.pos++
			l.tok(t, LEQ, start)
			return
		}
		if next == '|' {
			l.pos++
			l.tok(t, PIPE_FROM, start)
			return
		}
		if n := l.matchSearchPath(start); n > 0 {
			l.pos = start + n
			l.tok(t, SPATH, start)
			return
		}
		l.tok(t, LT, start)
		return
	case '>':
		if next == '=' {
			l.pos++
			l.tok(t, GEQ, start)
			return
		}
		l.tok(t, GT, start)
		return
	case '&':
		if next == '&' {
			l.pos++
			l.tok(t, AND, start)
			return
		}
	case '|':
		if next == '|' {
			l.pos++
			l.tok(t, OR, start)
			return
		}
		if next == '>' {
			l.pos++
			l.tok(t, PIPE_INTO, start)
			return
		}
	case '-':
		if next == '>' {
			l.pos++
			l.tok(t, IMPL, start)
			return
		}
		l.tok(t, MINUS, start)
		return
	case '/':
		if next == '/' {
			l.pos++
			l.tok(t, UPDATE, start)
			return
		}
		l.tok(t, SLASH, start)
		return
	case '+':
		if next == '+' {
			l.pos++
			l.tok(t, CONCAT, start)
			return
		}
		l.tok(t, PLUS, start)
		return
	case '*':
		l.tok(t, STAR, start)
		return
	}
	l.tok(t, ILLEGAL, start)
	return
}

// mayContinuePathOrURI reports whether c, after a run of identifier
// characters, could make that text the start of a path or URI.
func mayContinuePathOrURI(c byte) bool {
	return c == '.' || c == '+' || c == '/' || c == ':'
}

// ident sets *t to the identifier or keyword from start to the current
// position.
func (l *Lexer) ident(t *Token, start int) {
	l.tok(t, ID, start)
	if n := l.pos - start; n >= 2 && n <= 7 {
		t.Kind = keywordKind(t.Text)
	}
}

// matchPath returns the length of the longest PATH (or PATH_SEG followed by
// "${") starting at start, or 0.
//
//	PATH     = PATH_CHAR* ('/' PATH_CHAR+)+ '/'?
//	PATH_SEG = PATH_CHAR* '/'     (only when followed by "${")
func (l *Lexer) matchPath(start int) int {
	if start > l.noPath.from && start < l.noPath.to {
		return 0
	}
	src := l.src
	i := start
	for i < len(src) && isPathChar(src[i]) {
		i++
	}
	segs := 0
	for i < len(src) && src[i] == '/' {
		j := i + 1
		for j < len(src) && isPathChar(src[j]) {
			j++
		}
		if j == i+1 {
			break
		}
		segs++
		i = j
	}
	if segs > 0 {
		if i < len(src) && src[i] == '/' {
			i++ // trailing slash: the lexer then insists on "${"
		}
		return i - start
	}
	// PATH_SEG "${": a/${x}, ./${x}
	if i < len(src) && src[i] == '/' && i+2 < len(src) && src[i+1] == '$' && src[i+2] == '{' {
		return i + 1 - start
	}
	if segs == 0 && (i >= len(src) || src[i] != '/') {
		// Any later start in the run ends at the same i and fails too.
		l.noPath.from, l.noPath.to = start, i
	}
	return 0
}

func (l *Lexer) lexPathStart(t *Token, start, n int) {
	// A path competes with numbers and identifiers; flex takes the longest
	// match, and a path always contains a '/', so it is longer than either.
	l.pos = start + n
	if l.src[l.pos-1] == '/' {
		l.push(stInPathSlash)
	} else {
		l.push(stInPath)
	}
	l.tok(t, PATH, start)
	return
}

// matchURI returns the length of a URI starting at start, or 0.
func (l *Lexer) matchURI(start int) int {
	if start > l.noURI.from && start < l.noURI.to {
		return 0
	}
	src := l.src
	i := start + 1
	for i < len(src) && isURISchemeChar(src[i]) {
		i++
	}
	if i >= len(src) || src[i] != ':' {
		// Any later start in the run ends at the same i and fails too.
		l.noURI.from, l.noURI.to = start, i
		return 0
	}
	j := i + 1
	for j < len(src) && isURIChar(src[j]) {
		j++
	}
	if j == i+1 {
		return 0
	}
	// An identifier or path could be longer only if it contained ':',
	// which neither can; the URI wins.
	return j - start
}

// matchSearchPath returns the length of <a/b> at start, or 0.
func (l *Lexer) matchSearchPath(start int) int {
	src := l.src
	i := start + 1
	for {
		j := i
		for j < len(src) && isPathChar(src[j]) {
			j++
		}
		if j == i {
			return 0
		}
		if j < len(src) && src[j] == '/' {
			i = j + 1
			continue
		}
		if j < len(src) && src[j] == '>' {
			return j + 1 - start
		}
		return 0
	}
}

// lexNumber lexes INT or FLOAT.
//
//	INT   = [0-9]+
//	FLOAT = (([1-9][0-9]*\.[0-9]*)|(0?\.[0-9]+))([Ee][+-]?[0-9]+)?
func (l *Lexer) lexNumber(t *Token, start int) {
	src := l.src
	i := start
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	intEnd := i
	floatEnd := 0
	if i < len(src) && src[i] == '.' {
		digits := src[start:i]
		leadOK := digits == "" || digits == "0" || digits[0] != '0'
		j := i + 1
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		fracDigits := j - i - 1
		if leadOK && (digits != "" && digits != "0" || fracDigits > 0) {
			floatEnd = j
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					floatEnd = k
				}
			}
		}
	}
	if floatEnd > intEnd {
		l.pos = floatEnd
		l.tok(t, FLOAT, start)
		return
	}
	l.pos = intEnd
	l.tok(t, INT, start)
	return
}

// lexString lexes inside "…": a piece of text, "${", or the closing quote.
func (l *Lexer) lexString(t *Token) {
	src := l.src
	start := l.pos
	if start >= len(src) {
		*t = Token{Kind: EOF, Start: start, End: start}
		return
	}
	switch src[start] {
	case '"':
		l.pos++
		l.pop()
		l.tok(t, QUOTE, start)
		return
	case '$':
		if start+1 < len(src) && src[start+1] == '{' {
			l.pos += 2
			l.push(stDefault)
			l.tok(t, DOLLAR_CURLY, start)
			return
		}
	}
	var b strings.Builder
	escaped := false
	i := start
loop:
	for i < len(src) {
		switch c := src[i]; c {
		case '"':
			break loop
		case '$':
			if i+1 >= len(src) {
				break loop
			}
			switch src[i+1] {
			case '{':
				break loop
			case '"':
				// A '$' right before the closing quote is text.
				if escaped {
					b.WriteByte('$')
				}
				i++
				continue
			case '\\':
				if i+2 >= len(src) {
					break loop
				}
				// "$\x": the dollar is text, then the escape
				if !escaped {
					escaped = true
					b.WriteString(src[start:i])
				}
				b.WriteByte('$')
				i++
				continue
			}
			if escaped {
				b.WriteString(src[i : i+2])
			}
			i += 2
		case '\\':
			if i+1 >= len(src) {
				break loop
			}
			if !escaped {
				escaped = true
				b.WriteString(src[start:i])
			}
			switch e := src[i+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
			i += 2
		case '\r':
			if !escaped {
				escaped = true
				b.WriteString(src[start:i])
			}
			b.WriteByte('\n')
			i++
			if i < len(src) && src[i] == '\n' {
				i++
			}
		default:
			if escaped {
				b.WriteByte(c)
			}
			i++
		}
	}
	if i == start {
		// A lone '$' or '\' at the end of the input: the string is
		// unterminated, which the parser reports as end of file.
		l.pos = len(src)
		*t = Token{Kind: EOF, Start: len(src), End: len(src)}
		return
	}
	l.pos = i
	l.tok(t, STR, start)
	if escaped {
		t.Text = b.String()
	}
}

// lexIndString lexes inside an indented string.
func (l *Lexer) lexIndString(t *Token) {
	src := l.src
	start := l.pos
	if start >= len(src) {
		*t = Token{Kind: EOF, Start: start, End: start}
		return
	}
	c := src[start]
	if c == '\'' && start+1 < len(src) && src[start+1] == '\'' {
		// '' followed by $, ' or \x is an escape; otherwise it closes.
		if start+2 < len(src) {
			switch src[start+2] {
			case '$':
				l.pos = start + 3
				*t = Token{Kind: IND_STR, Start: start, End: l.pos, Text: "$"}
				return
			case '\'':
				l.pos = start + 3
				*t = Token{Kind: IND_STR, Start: start, End: l.pos, Text: "''"}
				return
			case '\\':
				if start+3 < len(src) {
					l.pos = start + 4
					*t = Token{Kind: IND_STR, Start: start, End: l.pos, Text: unescapeChar(src, start+3)}
					return
				}
			}
		}
		l.pos = start + 2
		l.pop()
		l.tok(t, IND_STRING_CLOSE, start)
		return
	}
	if c == '$' {
		if start+1 < len(src) && src[start+1] == '{' {
			l.pos = start + 2
			l.push(stDefault)
			l.tok(t, DOLLAR_CURLY, start)
			return
		}
		if start+1 >= len(src) || src[start+1] == '\'' {
			l.pos = start + 1
			*t = Token{Kind: IND_STR, Start: start, End: l.pos, Text: "$"}
			return
		}
	}
	if c == '\'' && (start+1 >= len(src) || src[start+1] == '$') {
		l.pos = start + 1
		*t = Token{Kind: IND_STR, Start: start, End: l.pos, Text: "'"}
		return
	}
	// ([^$']|\$[^{']|'[^'$])+
	i := start
	for i < len(src) {
		c := src[i]
		if c == '$' {
			if i+1 < len(src) && src[i+1] != '{' && src[i+1] != '\'' {
				i += 2
				continue
			}
			break
		}
		if c == '\'' {
			if i+1 < len(src) && src[i+1] != '\'' && src[i+1] != '$' {
				i += 2
				continue
			}
			break
		}
		i++
	}
	l.pos = i
	l.tok(t, IND_STR, start)
	t.Raw = true
}

// unescapeChar decodes the escaped character at src[i] (after a
// backslash).
func unescapeChar(src string, i int) string {
	switch src[i] {
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	}
	return src[i : i+1]
}

// lexInPath lexes the continuation of a path after its first piece:
// more path text, an interpolation, or the (zero-width) end of the path.
// The text matched is the longest of PATH, PATH_SEG and PATH_CHAR+, as in
// Nix's lexer.
func (l *Lexer) lexInPath(t *Token) {
	src := l.src
	start := l.pos
	slash := l.state() == stInPathSlash
	if start+1 < len(src) && src[start] == '$' && src[start+1] == '{' {
		l.pop()
		l.push(stInPath)
		l.push(stDefault)
		l.pos += 2
		l.tok(t, DOLLAR_CURLY, start)
		return
	}
	i := start
	for i < len(src) && isPathChar(src[i]) {
		i++
	}
	for i+1 < len(src) && src[i] == '/' && isPathChar(src[i+1]) {
		i++
		for i < len(src) && isPathChar(src[i]) {
			i++
		}
	}
	if i < len(src) && src[i] == '/' {
		i++
	}
	l.pop()
	if i > start {
		l.pos = i
		if src[i-1] == '/' {
			l.push(stInPathSlash)
		} else {
			l.push(stInPath)
		}
		l.tok(t, STR, start)
		return
	}
	if slash {
		*t = Token{Kind: ILLEGAL, Start: start, End: start, Err: "path has a trailing slash"}
		return
	}
	*t = Token{Kind: PATH_END, Start: start, End: start}
	return
}
