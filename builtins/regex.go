package builtins

// The regular expressions of builtins.match and builtins.split.
//
// Nix hands the pattern to std::regex with the `extended` (POSIX ERE)
// grammar, and what Nix users observe is whatever GNU libstdc++ does with
// it. That is not POSIX: the matcher is a backtracking search that keeps
// the longest match found, but prunes the search in ways that change both
// the overall match (split "(a*)(ab)*" "aab" first matches "aa") and the
// submatches ((a|ab)(c|bcd) against "abcd" captures "a" and "bcd"; a group
// keeps what it captured in an earlier iteration of a loop). To give the
// same answers, this file reimplements that design: a scanner and a
// compiler that build the same automaton (same states, in the same order,
// with the same limit of 100000 states), and an executor that walks it in
// the same order, with an explicit stack instead of recursion so that long
// subjects don't exhaust the Go stack.
//
// Everything works on bytes, not runes, in the "C" locale: character
// classes are ASCII only, `.` matches any byte but NUL, and ranges compare
// bytes as signed chars, as libstdc++ does on x86.

import (
	"errors"
	"strings"
	"sync"
)

// errRegexSyntax and errRegexSpace are the two ways a pattern can be
// rejected; Nix reports them differently.
var (
	errRegexSyntax = errors.New("invalid regular expression")
	errRegexSpace  = errors.New("regular expression too large")
)

// reStateLimit is libstdc++'s _GLIBCXX_REGEX_STATE_LIMIT.
const reStateLimit = 100000

type reOp uint8

const (
	reAlternative reOp = iota
	reRepeat
	reLineBegin
	reLineEnd
	reSubBegin
	reSubEnd
	reDummy
	reMatch
	reAccept
)

// reState is one node of the automaton. next is the ordinary successor;
// alt is the other branch of an alternative ("left side") or of a repeat
// ("once more"); set says which bytes a match state accepts.
type reState struct {
	op   reOp
	next int32
	alt  int32
	sub  int32
	set  *[256]bool
}

func (s *reState) hasAlt() bool { return s.op == reAlternative || s.op == reRepeat }

// reProg is a compiled pattern.
type reProg struct {
	states []reState
	nsub   int // capture groups, group 0 (the whole match) included
	// first is the set of bytes a non-empty match can start with, and
	// empty whether a match can be empty; they let a search skip
	// positions where nothing can match.
	first [256]bool
	empty bool
	// last is the set of bytes a whole-subject match can end with: match
	// rejects a subject whose last byte is not in it without searching.
	last [256]bool
	// pool keeps executors for reuse.
	pool sync.Pool
}

// ---------------------------------------------------------------------
// Scanner

type reTok uint8

const (
	tokEOF reTok = iota
	tokAnyChar
	tokOrdChar
	tokSubexprBegin
	tokSubexprEnd
	tokBracketBegin
	tokBracketNegBegin
	tokBracketEnd
	tokBracketDash
	tokIntervalBegin
	tokIntervalEnd
	tokCharClassName
	tokCollSymbol
	tokEquivClassName
	tokOpt
	tokOr
	tokClosure0
	tokClosure1
	tokLineBegin
	tokLineEnd
	tokComma
	tokDupCount
)

type reScanState uint8

const (
	scanNormal reScanState = iota
	scanInBrace
	scanInBracket
)

// reExtendedSpecial are the characters with a meaning outside brackets
// in the extended grammar; a backslash may only quote these.
const reExtendedSpecial = ".[\\()*+?{|^$"

type reScanner struct {
	pat            string
	cur            int
	state          reScanState
	token          reTok
	value          string
	atBracketStart bool
}

// reFail aborts compilation; compile recovers it.
type reFail struct{ err error }

func reSyntaxError() { panic(reFail{errRegexSyntax}) }

func (sc *reScanner) advance() {
	if sc.cur == len(sc.pat) {
		sc.token = tokEOF
		return
	}
	switch sc.state {
	case scanNormal:
		sc.scanNormal()
	case scanInBracket:
		sc.scanInBracket()
	case scanInBrace:
		sc.scanInBrace()
	}
}

func (sc *reScanner) scanNormal() {
	c := sc.pat[sc.cur]
	sc.cur++
	if c != 0 && strings.IndexByte(reExtendedSpecial, c) < 0 {
		sc.token = tokOrdChar
		sc.value = sc.pat[sc.cur-1 : sc.cur]
		return
	}
	switch c {
	case '\\':
		if sc.cur == len(sc.pat) {
			reSyntaxError()
		}
		// Only special characters may be escaped (libstdc++ built in
		// strict ISO mode rejects "\d", "\-", "\n"…).
		e := sc.pat[sc.cur]
		if e == 0 || strings.IndexByte(reExtendedSpecial, e) < 0 {
			reSyntaxError()
		}
		sc.token = tokOrdChar
		sc.value = sc.pat[sc.cur : sc.cur+1]
		sc.cur++
	case '(':
		sc.token = tokSubexprBegin
	case ')':
		sc.token = tokSubexprEnd
	case '[':
		sc.state = scanInBracket
		sc.atBracketStart = true
		if sc.cur < len(sc.pat) && sc.pat[sc.cur] == '^' {
			sc.token = tokBracketNegBegin
			sc.cur++
		} else {
			sc.token = tokBracketBegin
		}
	case '{':
		sc.state = scanInBrace
		sc.token = tokIntervalBegin
	case 0:
		reSyntaxError()
	case '^':
		sc.token = tokLineBegin
	case '$':
		sc.token = tokLineEnd
	case '.':
		sc.token = tokAnyChar
	case '*':
		sc.token = tokClosure0
	case '+':
		sc.token = tokClosure1
	case '?':
		sc.token = tokOpt
	case '|':
		sc.token = tokOr
	}
}

func (sc *reScanner) scanInBracket() {
	c := sc.pat[sc.cur]
	sc.cur++
	switch {
	case c == '-':
		sc.token = tokBracketDash
	case c == '[':
		if sc.cur == len(sc.pat) {
			reSyntaxError()
		}
		switch sc.pat[sc.cur] {
		case '.':
			sc.token = tokCollSymbol
			sc.cur++
			sc.eatClass('.')
		case ':':
			sc.token = tokCharClassName
			sc.cur++
			sc.eatClass(':')
		case '=':
			sc.token = tokEquivClassName
			sc.cur++
			sc.eatClass('=')
		default:
			sc.token = tokOrdChar
			sc.value = "["
		}
	case c == ']' && !sc.atBracketStart:
		sc.token = tokBracketEnd
		sc.state = scanNormal
	default:
		// A backslash is an ordinary character inside brackets.
		sc.token = tokOrdChar
		sc.value = sc.pat[sc.cur-1 : sc.cur]
	}
	sc.atBracketStart = false
}

// eatClass reads the name of [:name:], [.name.] or [=name=] up to the
// closing delimiter and bracket.
func (sc *reScanner) eatClass(delim byte) {
	start := sc.cur
	for sc.cur < len(sc.pat) && sc.pat[sc.cur] != delim {
		sc.cur++
	}
	sc.value = sc.pat[start:sc.cur]
	if sc.cur == len(sc.pat) {
		reSyntaxError()
	}
	sc.cur++ // the delimiter
	if sc.cur == len(sc.pat) || sc.pat[sc.cur] != ']' {
		reSyntaxError()
	}
	sc.cur++
}

func (sc *reScanner) scanInBrace() {
	c := sc.pat[sc.cur]
	sc.cur++
	switch {
	case reIsDigit(c):
		start := sc.cur - 1
		for sc.cur < len(sc.pat) && reIsDigit(sc.pat[sc.cur]) {
			sc.cur++
		}
		sc.token = tokDupCount
		sc.value = sc.pat[start:sc.cur]
	case c == ',':
		sc.token = tokComma
	case c == '}':
		sc.state = scanNormal
		sc.token = tokIntervalEnd
	default:
		reSyntaxError()
	}
}

func reIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// ---------------------------------------------------------------------
// Compiler

// reSeq is a fragment of the automaton: its first and last states.
type reSeq struct{ start, end int32 }

type reCompiler struct {
	sc         reScanner
	states     []reState
	stack      []reSeq
	value      string
	subCount   int32
	parenStack []int32
}

func (c *reCompiler) insert(s reState) int32 {
	c.states = append(c.states, s)
	if len(c.states) > reStateLimit {
		panic(reFail{errRegexSpace})
	}
	return int32(len(c.states) - 1)
}

func (c *reCompiler) insertDummy() int32 { return c.insert(reState{op: reDummy, next: -1}) }

func (c *reCompiler) insertSubBegin() int32 {
	id := c.subCount
	c.subCount++
	c.parenStack = append(c.parenStack, id)
	return c.insert(reState{op: reSubBegin, next: -1, sub: id})
}

func (c *reCompiler) insertSubEnd() int32 {
	id := c.parenStack[len(c.parenStack)-1]
	c.parenStack = c.parenStack[:len(c.parenStack)-1]
	return c.insert(reState{op: reSubEnd, next: -1, sub: id})
}

func (c *reCompiler) insertRepeat(next, alt int32) int32 {
	return c.insert(reState{op: reRepeat, next: next, alt: alt})
}

func (c *reCompiler) insertMatcher(set *[256]bool) int32 {
	return c.insert(reState{op: reMatch, next: -1, set: set})
}

// appendState links id after the fragment.
func (c *reCompiler) appendState(s *reSeq, id int32) {
	c.states[s.end].next = id
	s.end = id
}

func (c *reCompiler) appendSeq(s *reSeq, t reSeq) {
	c.states[s.end].next = t.start
	s.end = t.end
}

func (c *reCompiler) push(s reSeq) { c.stack = append(c.stack, s) }

func (c *reCompiler) pop() reSeq {
	s := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	return s
}

func (c *reCompiler) matchToken(t reTok) bool {
	if c.sc.token == t {
		c.value = c.sc.value
		c.sc.advance()
		return true
	}
	return false
}

// reCompile compiles a pattern, or fails with errRegexSyntax or
// errRegexSpace.
func reCompile(pat string) (prog *reProg, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(reFail)
			if !ok {
				panic(r)
			}
			prog, err = nil, f.err
		}
	}()
	c := &reCompiler{sc: reScanner{pat: pat}}
	c.sc.advance()
	r := reSeq{0, 0}
	c.appendState(&r, c.insertSubBegin())
	c.disjunction()
	if !c.matchToken(tokEOF) {
		reSyntaxError()
	}
	c.appendSeq(&r, c.pop())
	c.appendState(&r, c.insertSubEnd())
	c.appendState(&r, c.insert(reState{op: reAccept, next: -1}))
	c.eliminateDummies()
	p := &reProg{states: c.states, nsub: int(c.subCount)}
	p.computeFirst()
	p.computeLast()
	return p, nil
}

func (c *reCompiler) disjunction() {
	c.alternative()
	for c.matchToken(tokOr) {
		alt1 := c.pop()
		c.alternative()
		alt2 := c.pop()
		end := c.insertDummy()
		c.appendState(&alt1, end)
		c.appendState(&alt2, end)
		// The left alternative is the alt branch, tried first.
		id := c.insert(reState{op: reAlternative, next: alt2.start, alt: alt1.start})
		c.push(reSeq{id, end})
	}
}

func (c *reCompiler) alternative() {
	if c.term() {
		re := c.pop()
		c.alternative()
		c.appendSeq(&re, c.pop())
		c.push(re)
	} else {
		d := c.insertDummy()
		c.push(reSeq{d, d})
	}
}

func (c *reCompiler) term() bool {
	if c.assertion() {
		return true
	}
	if c.atom() {
		for c.quantifier() {
		}
		return true
	}
	return false
}

func (c *reCompiler) assertion() bool {
	switch {
	case c.matchToken(tokLineBegin):
		id := c.insert(reState{op: reLineBegin, next: -1})
		c.push(reSeq{id, id})
	case c.matchToken(tokLineEnd):
		id := c.insert(reState{op: reLineEnd, next: -1})
		c.push(reSeq{id, id})
	default:
		return false
	}
	return true
}

// curInt is the number in the last token, with C++'s overflow behaviour
// (a long accumulator returned as an int).
func (c *reCompiler) curInt() int64 {
	var v int64
	for i := 0; i < len(c.value); i++ {
		v = v*10 + int64(c.value[i]-'0')
	}
	return int64(int32(v))
}

func (c *reCompiler) quantifier() bool {
	switch {
	case c.matchToken(tokClosure0):
		if len(c.stack) == 0 {
			reSyntaxError()
		}
		e := c.pop()
		r := c.insertRepeat(-1, e.start)
		c.appendState(&e, r)
		c.push(reSeq{r, r})
	case c.matchToken(tokClosure1):
		if len(c.stack) == 0 {
			reSyntaxError()
		}
		e := c.pop()
		c.appendState(&e, c.insertRepeat(-1, e.start))
		c.push(e)
	case c.matchToken(tokOpt):
		if len(c.stack) == 0 {
			reSyntaxError()
		}
		e := c.pop()
		end := c.insertDummy()
		r := reSeq{c.insertRepeat(-1, e.start), 0}
		r.end = r.start
		c.appendState(&e, end)
		c.appendState(&r, end)
		c.push(r)
	case c.matchToken(tokIntervalBegin):
		if len(c.stack) == 0 {
			reSyntaxError()
		}
		if !c.matchToken(tokDupCount) {
			reSyntaxError()
		}
		r := c.pop()
		d := c.insertDummy()
		e := reSeq{d, d}
		minRep := c.curInt()
		infinite := false
		var n int64
		if c.matchToken(tokComma) {
			if c.matchToken(tokDupCount) {
				n = c.curInt() - minRep
			} else {
				infinite = true
			}
		}
		if !c.matchToken(tokIntervalEnd) {
			reSyntaxError()
		}
		for i := int64(0); i < minRep; i++ {
			c.appendSeq(&e, c.clone(r))
		}
		if infinite {
			tmp := c.clone(r)
			s := c.insertRepeat(-1, tmp.start)
			c.appendState(&tmp, s)
			c.appendState(&e, s)
		} else {
			if n < 0 {
				reSyntaxError()
			}
			end := c.insertDummy()
			var reps []int32
			for i := int64(0); i < n; i++ {
				tmp := c.clone(r)
				alt := c.insertRepeat(tmp.start, end)
				reps = append(reps, alt)
				c.appendSeq(&e, reSeq{alt, tmp.end})
			}
			c.appendState(&e, end)
			// The repeats were built with "less" as alt; swap so
			// that alt is "once more", as in the other loops.
			for i := len(reps) - 1; i >= 0; i-- {
				st := &c.states[reps[i]]
				st.next, st.alt = st.alt, st.next
			}
		}
		c.push(e)
	default:
		return false
	}
	return true
}

// clone copies the states of a fragment (libstdc++'s _M_clone, including
// the order in which it visits them, which decides when the state limit
// is reached).
func (c *reCompiler) clone(s reSeq) reSeq {
	m := map[int32]int32{}
	stack := []int32{s.start}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		dup := c.states[u]
		id := c.insert(dup)
		m[u] = id
		if dup.hasAlt() && dup.alt != -1 {
			if _, ok := m[dup.alt]; !ok {
				stack = append(stack, dup.alt)
			}
		}
		if u == s.end {
			continue
		}
		if dup.next != -1 {
			if _, ok := m[dup.next]; !ok {
				stack = append(stack, dup.next)
			}
		}
	}
	for _, v := range m {
		st := &c.states[v]
		if st.next != -1 {
			if n, ok := m[st.next]; ok {
				st.next = n
			}
		}
		if st.hasAlt() && st.alt != -1 {
			if n, ok := m[st.alt]; ok {
				st.alt = n
			}
		}
	}
	return reSeq{m[s.start], m[s.end]}
}

func (c *reCompiler) eliminateDummies() {
	for i := range c.states {
		st := &c.states[i]
		for st.next >= 0 && c.states[st.next].op == reDummy {
			st.next = c.states[st.next].next
		}
		if st.hasAlt() {
			for st.alt >= 0 && c.states[st.alt].op == reDummy {
				st.alt = c.states[st.alt].next
			}
		}
	}
}

func (c *reCompiler) tryChar() bool { return c.matchToken(tokOrdChar) }

func (c *reCompiler) atom() bool {
	switch {
	case c.matchToken(tokAnyChar):
		id := c.insertMatcher(&reAnySet)
		c.push(reSeq{id, id})
	case c.tryChar():
		id := c.insertMatcher(reCharSet(c.value[0]))
		c.push(reSeq{id, id})
	case c.matchToken(tokSubexprBegin):
		r := reSeq{c.insertSubBegin(), 0}
		r.end = r.start
		c.disjunction()
		if !c.matchToken(tokSubexprEnd) {
			reSyntaxError()
		}
		c.appendSeq(&r, c.pop())
		c.appendState(&r, c.insertSubEnd())
		c.push(r)
	default:
		return c.bracketExpression()
	}
	return true
}

// reAnySet is `.`: every byte but NUL.
var reAnySet = func() (s [256]bool) {
	for i := 1; i < 256; i++ {
		s[i] = true
	}
	return
}()

var reCharSets [256]*[256]bool

func init() {
	for i := range reCharSets {
		var s [256]bool
		s[i] = true
		reCharSets[i] = &s
	}
}

func reCharSet(b byte) *[256]bool { return reCharSets[b] }

func (c *reCompiler) bracketExpression() bool {
	neg := c.matchToken(tokBracketNegBegin)
	if !neg && !c.matchToken(tokBracketBegin) {
		return false
	}
	m := &reBracket{neg: neg}
	var last reBracketLast
	if c.tryChar() {
		last.setChar(c.value[0])
	} else if c.matchToken(tokBracketDash) {
		last.setChar('-')
	}
	for c.expressionTerm(&last, m) {
	}
	if last.kind == lastChar {
		m.addChar(last.ch)
	}
	id := c.insertMatcher(m.set())
	c.push(reSeq{id, id})
	return true
}

type reLastKind uint8

const (
	lastNone reLastKind = iota
	lastChar
	lastClass
)

// reBracketLast is what the previous term of a bracket expression was,
// kept back in case a '-' makes it the start of a range.
type reBracketLast struct {
	kind reLastKind
	ch   byte
}

func (l *reBracketLast) setChar(c byte) { l.kind, l.ch = lastChar, c }

func (c *reCompiler) expressionTerm(last *reBracketLast, m *reBracket) bool {
	if c.matchToken(tokBracketEnd) {
		return false
	}
	pushChar := func(ch byte) {
		if last.kind == lastChar {
			m.addChar(last.ch)
		}
		last.setChar(ch)
	}
	pushClass := func() {
		if last.kind == lastChar {
			m.addChar(last.ch)
		}
		last.kind = lastClass
	}
	switch {
	case c.matchToken(tokCollSymbol):
		ch, ok := reCollateName(c.value)
		if !ok {
			reSyntaxError()
		}
		m.addChar(ch)
		pushChar(ch)
	case c.matchToken(tokEquivClassName):
		pushClass()
		ch, ok := reCollateName(c.value)
		if !ok {
			reSyntaxError()
		}
		m.equiv = append(m.equiv, reLower(ch))
	case c.matchToken(tokCharClassName):
		pushClass()
		mask, ok := reClassNames[reLowerString(c.value)]
		if !ok {
			reSyntaxError()
		}
		m.classes |= mask
	case c.tryChar():
		pushChar(c.value[0])
	case c.matchToken(tokBracketDash):
		switch {
		case c.matchToken(tokBracketEnd):
			// "-]": the dash is a literal character.
			pushChar('-')
			return false
		case last.kind == lastClass:
			reSyntaxError()
		case last.kind == lastChar:
			switch {
			case c.tryChar():
				m.addRange(last.ch, c.value[0])
			case c.matchToken(tokBracketDash):
				m.addRange(last.ch, '-')
			default:
				reSyntaxError()
			}
			last.kind = lastNone
		default:
			// POSIX allows '-' only first, last or as a range end.
			reSyntaxError()
		}
	default:
		reSyntaxError()
	}
	return true
}

// reBracket collects the members of a bracket expression.
type reBracket struct {
	neg     bool
	chars   []byte
	ranges  [][2]int8
	classes reClass
	equiv   []byte
}

func (m *reBracket) addChar(c byte) { m.chars = append(m.chars, c) }

func (m *reBracket) addRange(lo, hi byte) {
	// Bytes are chars, which are signed.
	if int8(lo) > int8(hi) {
		reSyntaxError()
	}
	m.ranges = append(m.ranges, [2]int8{int8(lo), int8(hi)})
}

func (m *reBracket) set() *[256]bool {
	var s [256]bool
	for i := 0; i < 256; i++ {
		b := byte(i)
		in := false
		for _, c := range m.chars {
			if c == b {
				in = true
			}
		}
		for _, r := range m.ranges {
			if r[0] <= int8(b) && int8(b) <= r[1] {
				in = true
			}
		}
		if m.classes != 0 && reIsClass(b, m.classes) {
			in = true
		}
		for _, e := range m.equiv {
			if reLower(b) == e {
				in = true
			}
		}
		s[i] = in != m.neg
	}
	return &s
}

// reClass is a set of character classes of the "C" locale.
type reClass uint16

const (
	clUpper reClass = 1 << iota
	clLower
	clDigit
	clXDigit
	clSpace
	clBlank
	clPrint
	clCntrl
	clPunct
	clUnder // [:w:] adds the underscore
	clAlpha = clUpper | clLower
	clAlnum = clAlpha | clDigit
	clGraph = clAlnum | clPunct
)

var reClassNames = map[string]reClass{
	"d": clDigit, "w": clAlnum | clUnder, "s": clSpace,
	"alnum": clAlnum, "alpha": clAlpha, "blank": clBlank, "cntrl": clCntrl,
	"digit": clDigit, "graph": clGraph, "lower": clLower, "print": clPrint,
	"punct": clPunct, "space": clSpace, "upper": clUpper, "xdigit": clXDigit,
}

func reIsClass(b byte, mask reClass) bool {
	var has reClass
	switch {
	case b >= 'A' && b <= 'Z':
		has |= clUpper
	case b >= 'a' && b <= 'z':
		has |= clLower
	case b >= '0' && b <= '9':
		has |= clDigit
	}
	if b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' {
		has |= clXDigit
	}
	if b == ' ' || b >= '\t' && b <= '\r' {
		has |= clSpace
	}
	if b == ' ' || b == '\t' {
		has |= clBlank
	}
	if b >= 0x20 && b < 0x7f {
		has |= clPrint
	}
	if b < 0x20 || b == 0x7f {
		has |= clCntrl
	}
	if b > 0x20 && b < 0x7f && has&clAlnum == 0 {
		has |= clPunct
	}
	if b == '_' && mask&clUnder != 0 {
		return true
	}
	return has&mask != 0
}

func reLowerString(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = reLower(b[i])
	}
	return string(b)
}

func reLower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// reCollateNames are the names [.name.] and [=name=] accept, indexed by
// the character they stand for.
var reCollateNames = [128]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "alert", "backspace", "tab",
	"newline", "vertical-tab", "form-feed", "carriage-return", "SO", "SI", "DLE",
	"DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
	"IS4", "IS3", "IS2", "IS1", "space", "exclamation-mark", "quotation-mark",
	"number-sign", "dollar-sign", "percent-sign", "ampersand", "apostrophe",
	"left-parenthesis", "right-parenthesis", "asterisk", "plus-sign", "comma",
	"hyphen", "period", "slash", "zero", "one", "two", "three", "four", "five",
	"six", "seven", "eight", "nine", "colon", "semicolon", "less-than-sign",
	"equals-sign", "greater-than-sign", "question-mark", "commercial-at",
	"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P",
	"Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "left-square-bracket",
	"backslash", "right-square-bracket", "circumflex", "underscore",
	"grave-accent", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
	"m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
	"left-curly-bracket", "vertical-line", "right-curly-bracket", "tilde", "DEL",
}

func reCollateName(name string) (byte, bool) {
	for i, n := range reCollateNames {
		if n == name {
			return byte(i), true
		}
	}
	return 0, false
}

// computeFirst finds the bytes a match can begin with by following the
// states that consume nothing from the start.
func (p *reProg) computeFirst() {
	seen := make([]bool, len(p.states))
	var walk func(i int32)
	walk = func(i int32) {
		for i >= 0 && !seen[i] {
			seen[i] = true
			st := &p.states[i]
			switch st.op {
			case reMatch:
				for b := range 256 {
					if st.set[b] {
						p.first[b] = true
					}
				}
				return
			case reAccept:
				p.empty = true
				return
			case reAlternative, reRepeat:
				walk(st.alt)
			}
			i = st.next
		}
	}
	walk(0)
}

// computeLast finds the bytes a match can end with: those of the byte
// states from which the accepting state is reachable without consuming
// anything more. Assertions count as passable, so the set may be too
// large but never too small.
func (p *reProg) computeLast() {
	finish := make([]bool, len(p.states))
	reaches := func(i int32) bool { return i >= 0 && finish[i] }
	for changed := true; changed; {
		changed = false
		for i := range p.states {
			if finish[i] {
				continue
			}
			st := &p.states[i]
			ok := false
			switch st.op {
			case reAccept:
				ok = true
			case reMatch:
			default:
				ok = reaches(st.next) || st.hasAlt() && reaches(st.alt)
			}
			if ok {
				finish[i], changed = true, true
			}
		}
	}
	for i := range p.states {
		if st := &p.states[i]; st.op == reMatch && reaches(st.next) {
			for b := range 256 {
				if st.set[b] {
					p.last[b] = true
				}
			}
		}
	}
}

// ---------------------------------------------------------------------
// Executor

// reSub is one capture group of a match: the bytes [first, second) if
// matched.
type reSub struct {
	first, second int
	matched       bool
}

type reFrameOp uint8

const (
	frNext reFrameOp = iota
	frFallbackNext
	frPosixAlternative
	frMergeSol
	frRestoreSubFirst
	frRestoreSubSecond
	frRestoreRepCount
	frDecrementRepCount
)

type reFrame struct {
	op    reFrameOp
	flag  bool // frRestoreSubSecond: matched; frMergeSol: the solution flag
	count uint8
	state int32
	pos   int
}

type reRepCount struct {
	pos   int
	count uint8
}

// Search flags (std::regex_constants::match_flag_type).
const (
	reNotNull    = 1 << iota // an empty match does not count
	reContinuous             // the match must start at the first position
	rePrevAvail              // the first position is not the start of the subject
)

type reExec struct {
	prog     *reProg
	s        string
	begin    int
	cur      int
	exact    bool
	flags    int
	hasSol   bool
	solPos   int
	results  []reSub
	curRes   []reSub
	repCount []reRepCount
	frames   []reFrame
	// stop, if set, is asked now and then during a search whether to
	// give it up (the evaluation was interrupted: a backtracking search
	// can take exponential time); stopped tells that it did.
	stop    interruptible
	stopped bool
	// The state sets of matchAll.
	sim reSim
}

func newReExec(p *reProg, s string) *reExec {
	if x, ok := p.pool.Get().(*reExec); ok {
		x.s = s
		return x
	}
	x := &reExec{prog: p, s: s}
	x.results = make([]reSub, p.nsub)
	x.curRes = make([]reSub, p.nsub)
	x.repCount = make([]reRepCount, len(p.states))
	for i := range x.repCount {
		x.repCount[i].pos = -1
	}
	return x
}

// release returns x to its pattern's pool; x.results must not be used
// afterwards. (A finished search leaves the loop counters as they were.)
func (x *reExec) release() {
	if x.stopped {
		return // its loop counters are not restored: not reusable
	}
	x.s, x.stop = "", nil
	if cap(x.frames) > 1<<16 {
		x.frames = nil
	}
	x.prog.pool.Put(x)
}

// match reports whether the whole subject matches (std::regex_match).
func (x *reExec) match() bool {
	x.begin, x.flags, x.exact = 0, 0, true
	for i := range x.results {
		x.results[i] = reSub{}
	}
	x.cur = 0
	if !x.prog.empty && (len(x.s) == 0 || !x.prog.first[x.s[0]]) {
		return false
	}
	if len(x.s) > 0 && !x.prog.last[x.s[len(x.s)-1]] {
		return false
	}
	if x.prog.nsub == 1 {
		return x.matchAll()
	}
	return x.main()
}

// reSim holds the state sets of matchAll: the match states live at this
// position and the next, and per state the generation (position) it was
// last added in.
type reSim struct {
	cur, next, stack []int32
	added            []uint32
	gen              uint32
	accepted         bool
}

// matchAll is match for a pattern without groups, where the answer is
// only whether the subject matches. Then libstdc++'s search, which tries
// every path (a POSIX alternative or loop explores both ways in a whole
// match) and only cuts a loop entered a third time at one position (a
// cycle: the path without it matches too), answers whether any path
// matches; so do these sets of every state live at each position,
// followed in one pass: time linear in the subject, where the search
// can take exponential time.
func (x *reExec) matchAll() bool {
	sim := &x.sim
	if len(sim.added) != len(x.prog.states) {
		sim.added = make([]uint32, len(x.prog.states))
		sim.gen = 0
	}
	sim.accepted = false
	x.nextGen()
	sim.cur = x.addLive(sim.cur[:0], 0, 0)
	for pos := 0; pos < len(x.s) && len(sim.cur) > 0; pos++ {
		c := x.s[pos]
		next := sim.next[:0]
		x.nextGen()
		for _, i := range sim.cur {
			if st := &x.prog.states[i]; st.set[c] {
				next = x.addLive(next, st.next, pos+1)
			}
		}
		sim.cur, sim.next = next, sim.cur
	}
	return sim.accepted
}

// nextGen starts the set of a new position.
func (x *reExec) nextGen() {
	sim := &x.sim
	if sim.gen++; sim.gen == 0 {
		clear(sim.added)
		sim.gen = 1
	}
}

// addLive adds to live the match states reachable from state i at pos
// without reading a byte, and notes an accept reached at the end. States
// already added in this generation (nextGen, one per position) are not
// added again.
func (x *reExec) addLive(live []int32, i int32, pos int) []int32 {
	sim := &x.sim
	stack := append(sim.stack[:0], i)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i < 0 || sim.added[i] == sim.gen {
			continue
		}
		sim.added[i] = sim.gen
		st := &x.prog.states[i]
		switch st.op {
		case reMatch:
			live = append(live, i)
		case reAccept:
			if pos == len(x.s) {
				sim.accepted = true
			}
		case reAlternative, reRepeat:
			stack = append(stack, st.next, st.alt)
		case reLineBegin:
			if pos == 0 {
				stack = append(stack, st.next)
			}
		case reLineEnd:
			if pos == len(x.s) {
				stack = append(stack, st.next)
			}
		default: // the group 0 markers, dummies
			stack = append(stack, st.next)
		}
	}
	sim.stack = stack
	return live
}

// search finds the first match starting at or after from
// (std::regex_search on [from, end) with the given flags).
func (x *reExec) search(from int, flags int) bool {
	x.begin, x.flags, x.exact = from, flags, false
	for i := range x.results {
		x.results[i] = reSub{}
	}
	if x.searchFromFirst() {
		return true
	}
	if x.flags&reContinuous != 0 {
		return false
	}
	x.flags |= rePrevAvail
	for x.begin != len(x.s) {
		x.begin++
		if x.searchFromFirst() {
			return true
		}
	}
	return false
}

func (x *reExec) searchFromFirst() bool {
	// Nothing can match here: the search would fail, so skip it.
	if !x.prog.empty && (x.begin == len(x.s) || !x.prog.first[x.s[x.begin]]) {
		return false
	}
	x.cur = x.begin
	return x.main()
}

func (x *reExec) main() bool {
	x.hasSol = false
	x.solPos = -1
	copy(x.curRes, x.results)
	x.dfs(0)
	return x.hasSol
}

func (x *reExec) push(f reFrame) { x.frames = append(x.frames, f) }

func (x *reExec) dfs(start int32) {
	if x.stopped {
		return
	}
	x.push(reFrame{op: frNext, state: start})
	steps := 0
	for len(x.frames) > 0 {
		if steps++; steps&(1<<16-1) == 0 && x.stop != nil && x.stop.Interrupted() {
			x.stopped, x.hasSol = true, false
			x.frames = x.frames[:0]
			return
		}
		f := x.frames[len(x.frames)-1]
		x.frames = x.frames[:len(x.frames)-1]
		switch f.op {
		case frFallbackNext:
			if x.hasSol {
				break
			}
			x.cur = f.pos
			x.node(f.state)
		case frNext:
			x.node(f.state)
		case frPosixAlternative:
			x.push(reFrame{op: frMergeSol, flag: x.hasSol})
			x.push(reFrame{op: frNext, state: f.state})
			x.cur = f.pos
			x.hasSol = false
		case frMergeSol:
			x.hasSol = x.hasSol || f.flag
		case frRestoreSubFirst:
			x.curRes[f.state].first = f.pos
		case frRestoreSubSecond:
			x.curRes[f.state].second = f.pos
			x.curRes[f.state].matched = f.flag
		case frRestoreRepCount:
			x.repCount[f.state] = reRepCount{pos: f.pos, count: f.count}
		case frDecrementRepCount:
			x.repCount[f.state].count--
		}
	}
}

func (x *reExec) node(i int32) {
	if i < 0 {
		return
	}
	st := &x.prog.states[i]
	switch st.op {
	case reRepeat:
		// Greedy: once more first; the way out only if that found
		// no solution.
		x.push(reFrame{op: frFallbackNext, state: st.next, pos: x.cur})
		x.repOnceMore(i)
	case reSubBegin:
		x.push(reFrame{op: frRestoreSubFirst, state: st.sub, pos: x.curRes[st.sub].first})
		x.curRes[st.sub].first = x.cur
		x.push(reFrame{op: frNext, state: st.next})
	case reSubEnd:
		r := &x.curRes[st.sub]
		x.push(reFrame{op: frRestoreSubSecond, state: st.sub, pos: r.second, flag: r.matched})
		r.second = x.cur
		r.matched = true
		x.push(reFrame{op: frNext, state: st.next})
	case reLineBegin:
		if x.cur == x.begin && x.flags&rePrevAvail == 0 {
			x.push(reFrame{op: frNext, state: st.next})
		}
	case reLineEnd:
		if x.cur == len(x.s) {
			x.push(reFrame{op: frNext, state: st.next})
		}
	case reMatch:
		if x.cur < len(x.s) && st.set[x.s[x.cur]] {
			x.cur++
			x.push(reFrame{op: frNext, state: st.next})
		}
	case reAccept:
		x.accept()
	case reAlternative:
		// POSIX: try both sides and keep the longer match.
		x.push(reFrame{op: frPosixAlternative, state: st.next, pos: x.cur})
		x.push(reFrame{op: frNext, state: st.alt})
	}
}

// repOnceMore enters a loop body again, unless it has already been
// entered twice at this position (which would loop forever).
func (x *reExec) repOnceMore(i int32) {
	st := &x.prog.states[i]
	rc := &x.repCount[i]
	if rc.count == 0 || rc.pos != x.cur {
		x.push(reFrame{op: frRestoreRepCount, state: i, pos: rc.pos, count: rc.count})
		rc.pos = x.cur
		rc.count = 1
		x.push(reFrame{op: frNext, state: st.alt})
	} else if rc.count < 2 {
		rc.count++
		x.push(reFrame{op: frDecrementRepCount, state: i})
		x.push(reFrame{op: frNext, state: st.alt})
	}
}

func (x *reExec) accept() {
	if x.exact {
		x.hasSol = x.cur == len(x.s)
	} else {
		x.hasSol = true
	}
	if x.cur == x.begin && x.flags&reNotNull != 0 {
		x.hasSol = false
	}
	if x.hasSol && (x.solPos < 0 || x.solPos-x.begin < x.cur-x.begin) {
		x.solPos = x.cur
		copy(x.results, x.curRes)
	}
}

// reMatchResult is one match of split: the groups (0 is the whole
// match) and where the text before it began.
type reMatchResult struct {
	groups      []reSub
	prefixStart int
}

// findAll lists the matches std::regex_iterator visits.
func (p *reProg) findAll(s string) []reMatchResult {
	out, _ := p.findAllUnless(s, nil)
	return out
}

// interruptible is what a search asks whether to give up: the
// evaluator (an interface, not a method value, which would be allocated
// at every call).
type interruptible interface{ Interrupted() bool }

// findAllUnless is findAll, given up (with false) when stop says so.
func (p *reProg) findAllUnless(s string, stop interruptible) ([]reMatchResult, bool) {
	x := newReExec(p, s)
	x.stop = stop
	defer x.release()
	out := p.findAllWith(x, s)
	return out, !x.stopped
}

func (p *reProg) findAllWith(x *reExec, s string) []reMatchResult {
	var out []reMatchResult
	flags := 0
	if !x.search(0, flags) {
		return nil
	}
	prefixStart := 0
	for {
		m := append([]reSub(nil), x.results...)
		out = append(out, reMatchResult{groups: m, prefixStart: prefixStart})
		start := m[0].second
		prefixStart = start
		if m[0].first == m[0].second {
			if start == len(s) {
				return out
			}
			if x.search(start, flags|reNotNull|reContinuous) {
				continue
			}
			start++
		}
		flags |= rePrevAvail
		if !x.search(start, flags) {
			return out
		}
	}
}

// ---------------------------------------------------------------------
// Cache

type reCacheEntry struct {
	prog *reProg
	err  error
}

var reCache struct {
	sync.Mutex
	m      map[string]reCacheEntry
	states int // automaton states held by the cache
}

// The cache starts over when it holds more than reCacheMax patterns or
// reCacheMaxStates states in all.
const (
	reCacheMax       = 4096
	reCacheMaxStates = 1 << 21
)

// regexFor compiles pat, once per pattern.
func regexFor(pat string) (*reProg, error) {
	reCache.Lock()
	ent, ok := reCache.m[pat]
	reCache.Unlock()
	if ok {
		return ent.prog, ent.err
	}
	prog, err := reCompile(pat)
	size := 0
	if prog != nil {
		size = len(prog.states)
	}
	reCache.Lock()
	if reCache.m == nil || len(reCache.m) >= reCacheMax || reCache.states+size > reCacheMaxStates {
		reCache.m = map[string]reCacheEntry{}
		reCache.states = 0
	}
	reCache.m[pat] = reCacheEntry{prog, err}
	reCache.states += size
	reCache.Unlock()
	return prog, err
}
