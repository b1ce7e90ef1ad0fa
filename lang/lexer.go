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

func isIDStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIDChar(c byte) bool {
	return isIDStart(c) || c >= '0' && c <= '9' || c == '\'' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isPathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '+'
}

func isURISchemeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '+' || c == '-' || c == '.'
}

func isURIChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("%/?:@&=+$,-_.!~*'", c) >= 0
}

// Next returns the next token.
func (l *Lexer) Next() Token {
	switch l.state() {
	case stString:
		return l.lexString()
	case stIndString:
		return l.lexIndString()
	case stInPath, stInPathSlash:
		return l.lexInPath()
	}
	return l.lexDefault()
}

// skipSpace skips whitespace and comments.
func (l *Lexer) skipSpace() {
	src := l.src
	for l.pos < len(src) {
		switch c := src[l.pos]; c {
		case ' ', '\t', '\r', '\n':
			l.pos++
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

func (l *Lexer) tok(kind TokenKind, start int) Token {
	return Token{Kind: kind, Start: start, End: l.pos, Text: l.src[start:l.pos]}
}

func (l *Lexer) lexDefault() Token {
	l.skipSpace()
	src := l.src
	start := l.pos
	if start >= len(src) {
		return Token{Kind: EOF, Start: start, End: start}
	}
	c := src[start]

	// Paths and URIs compete with identifiers and numbers on the longest
	// match, as in flex.
	if isPathChar(c) || c == '/' {
		if n := l.matchPath(start); n > 0 {
			return l.lexPathStart(start, n)
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
			return l.tok(HPATH, start)
		}
		if start+2 < len(src) && src[start+2] == '$' && start+3 < len(src) && src[start+3] == '{' {
			l.pos = start + 2
			l.push(stInPathSlash)
			return l.tok(HPATH, start)
		}
	}
	if isIDStart(c) {
		if n := l.matchURI(start); c != '_' && n > 0 {
			l.pos = start + n
			return l.tok(URI, start)
		}
		i := start + 1
		for i < len(src) && isIDChar(src[i]) {
			i++
		}
		l.pos = i
		t := l.tok(ID, start)
		if n := len(t.Text); n >= 2 && n <= 7 {
			t.Kind = keywordKind(t.Text)
		}
		return t
	}
	if isDigit(c) || c == '.' && start+1 < len(src) && isDigit(src[start+1]) {
		return l.lexNumber(start)
	}

	l.pos++
	next := byte(0)
	if l.pos < len(src) {
		next = src[l.pos]
	}
	two := func(k TokenKind) Token { l.pos++; return l.tok(k, start) }
	switch c {
	case '"':
		l.push(stString)
		return l.tok(QUOTE, start)
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
			return l.tok(IND_STRING_OPEN, start)
		}
	case '$':
		if next == '{' {
			l.pos++
			l.push(stDefault)
			return l.tok(DOLLAR_CURLY, start)
		}
	case '{':
		l.push(stDefault)
		return l.tok(LBRACE, start)
	case '}':
		l.pop()
		return l.tok(RBRACE, start)
	case '(':
		return l.tok(LPAREN, start)
	case ')':
		return l.tok(RPAREN, start)
	case '[':
		return l.tok(LBRACKET, start)
	case ']':
		return l.tok(RBRACKET, start)
	case ';':
		return l.tok(SEMI, start)
	case ':':
		return l.tok(COLON, start)
	case ',':
		return l.tok(COMMA, start)
	case '@':
		return l.tok(AT, start)
	case '?':
		return l.tok(QUESTION, start)
	case '.':
		if next == '.' && l.pos+1 < len(src) && src[l.pos+1] == '.' {
			l.pos += 2
			return l.tok(ELLIPSIS, start)
		}
		return l.tok(DOT, start)
	case '=':
		if next == '=' {
			return two(EQ)
		}
		return l.tok(ASSIGN, start)
	case '!':
		if next == '=' {
			return two(NEQ)
		}
		return l.tok(NOT, start)
	case '<':
		if next == '=' {
			return two(LEQ)
		}
		if next == '|' {
			return two(PIPE_FROM)
		}
		if n := l.matchSearchPath(start); n > 0 {
			l.pos = start + n
			return l.tok(SPATH, start)
		}
		return l.tok(LT, start)
	case '>':
		if next == '=' {
			return two(GEQ)
		}
		return l.tok(GT, start)
	case '&':
		if next == '&' {
			return two(AND)
		}
	case '|':
		if next == '|' {
			return two(OR)
		}
		if next == '>' {
			return two(PIPE_INTO)
		}
	case '-':
		if next == '>' {
			return two(IMPL)
		}
		return l.tok(MINUS, start)
	case '/':
		if next == '/' {
			return two(UPDATE)
		}
		return l.tok(SLASH, start)
	case '+':
		if next == '+' {
			return two(CONCAT)
		}
		return l.tok(PLUS, start)
	case '*':
		return l.tok(STAR, start)
	}
	return l.tok(ILLEGAL, start)
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

func (l *Lexer) lexPathStart(start, n int) Token {
	// A path competes with numbers and identifiers; flex takes the longest
	// match, and a path always contains a '/', so it is longer than either.
	l.pos = start + n
	if l.src[l.pos-1] == '/' {
		l.push(stInPathSlash)
	} else {
		l.push(stInPath)
	}
	return l.tok(PATH, start)
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
func (l *Lexer) lexNumber(start int) Token {
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
		return l.tok(FLOAT, start)
	}
	l.pos = intEnd
	return l.tok(INT, start)
}

// lexString lexes inside "…": a piece of text, "${", or the closing quote.
func (l *Lexer) lexString() Token {
	src := l.src
	start := l.pos
	if start >= len(src) {
		return Token{Kind: EOF, Start: start, End: start}
	}
	switch src[start] {
	case '"':
		l.pos++
		l.pop()
		return l.tok(QUOTE, start)
	case '$':
		if start+1 < len(src) && src[start+1] == '{' {
			l.pos += 2
			l.push(stDefault)
			return l.tok(DOLLAR_CURLY, start)
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
		return Token{Kind: EOF, Start: len(src), End: len(src)}
	}
	l.pos = i
	t := l.tok(STR, start)
	if escaped {
		t.Text = b.String()
	}
	return t
}

// lexIndString lexes inside an indented string.
func (l *Lexer) lexIndString() Token {
	src := l.src
	start := l.pos
	if start >= len(src) {
		return Token{Kind: EOF, Start: start, End: start}
	}
	c := src[start]
	if c == '\'' && start+1 < len(src) && src[start+1] == '\'' {
		// '' followed by $, ' or \x is an escape; otherwise it closes.
		if start+2 < len(src) {
			switch src[start+2] {
			case '$':
				l.pos = start + 3
				return Token{Kind: IND_STR, Start: start, End: l.pos, Text: "$"}
			case '\'':
				l.pos = start + 3
				return Token{Kind: IND_STR, Start: start, End: l.pos, Text: "''"}
			case '\\':
				if start+3 < len(src) {
					l.pos = start + 4
					return Token{Kind: IND_STR, Start: start, End: l.pos, Text: unescapeChar(src, start+3)}
				}
			}
		}
		l.pos = start + 2
		l.pop()
		return l.tok(IND_STRING_CLOSE, start)
	}
	if c == '$' {
		if start+1 < len(src) && src[start+1] == '{' {
			l.pos = start + 2
			l.push(stDefault)
			return l.tok(DOLLAR_CURLY, start)
		}
		if start+1 >= len(src) || src[start+1] == '\'' {
			l.pos = start + 1
			return Token{Kind: IND_STR, Start: start, End: l.pos, Text: "$"}
		}
	}
	if c == '\'' && (start+1 >= len(src) || src[start+1] == '$') {
		l.pos = start + 1
		return Token{Kind: IND_STR, Start: start, End: l.pos, Text: "'"}
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
	t := l.tok(IND_STR, start)
	t.Raw = true
	return t
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
func (l *Lexer) lexInPath() Token {
	src := l.src
	start := l.pos
	slash := l.state() == stInPathSlash
	if start+1 < len(src) && src[start] == '$' && src[start+1] == '{' {
		l.pop()
		l.push(stInPath)
		l.push(stDefault)
		l.pos += 2
		return l.tok(DOLLAR_CURLY, start)
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
		return l.tok(STR, start)
	}
	if slash {
		return Token{Kind: ILLEGAL, Start: start, End: start, Err: "path has a trailing slash"}
	}
	return Token{Kind: PATH_END, Start: start, End: start}
}
