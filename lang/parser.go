package lang

import (
	"math"
	"path"
	"strconv"
	"strings"
)

// Config says how to parse.
type Config struct {
	// BaseDir is the directory that relative path literals are resolved
	// against (the directory of the file, or the working directory for
	// standard input and -E).
	BaseDir string
	// Home is the directory ~/ paths are resolved against.
	Home string
	// Tolerant makes the parser go on after errors, returning a partial
	// tree and every error (for editors). Otherwise it stops at the first.
	Tolerant bool
	// PipeOperators enables |> and <| (an experimental feature in Nix).
	PipeOperators bool
	// MaxDepth bounds the nesting of expressions; 0 means the default.
	MaxDepth int
	// Warn, if set, receives parse-time warnings (Nix warns about some
	// uses of `or` as an identifier).
	Warn func(pos Pos, msg string)
}

// DefaultMaxDepth bounds expression nesting so that hostile input cannot
// exhaust the stack.
const DefaultMaxDepth = 10000

// Parse parses src as a Nix expression registered in fset under filename.
// In tolerant mode the returned expression is non-nil even when there are
// errors; otherwise it is nil whenever the error is not.
func Parse(fset *FileSet, filename, src string, cfg Config) (Expr, *File, error) {
	f := fset.AddFile(filename, src)
	p := &parser{
		lx:   NewLexer(src),
		file: f,
		cfg:  cfg,
	}
	if p.cfg.MaxDepth == 0 {
		p.cfg.MaxDepth = DefaultMaxDepth
	}
	e := p.parseFile()
	if len(p.errs) > 0 {
		p.errs.Sort()
		if !cfg.Tolerant {
			return nil, f, p.errs
		}
		return e, f, p.errs
	}
	return e, f, nil
}

// bailout is raised to abandon a strict parse at the first error.
type bailout struct{}

type parser struct {
	lx    *Lexer
	file  *File
	cfg   Config
	tok   Token    // current token
	ahead [4]Token // tokens lexed beyond tok, a ring
	aHead int      // index of the first buffered token in ahead
	aLen  int      // number of buffered tokens
	errs  ErrorList
	depth int
	// attrIndex indexes the names of large attribute sets under
	// construction, so that merging stays linear.
	attrIndex map[*Attrs]map[string]int
	nodes     nodes
	// scratch buffers reused while collecting lists and paths
	pathScratch []AttrName
	// indScratch holds the parts of the indented strings being parsed,
	// nested ones (in interpolations) after their outer string's.
	indScratch []indPart
	// partScratch holds the parts of the strings being parsed likewise,
	// until they are copied to a slab at their exact number; textScratch
	// is for stripping indentation.
	partScratch []StringPart
	textScratch []byte
	// building is the set whose bindings parseBinds is parsing; its
	// attributes are collected in defScratch from buildingMark on, and
	// copied to a slab at their exact number when it is done (growing
	// each set's slice one attribute at a time made most of the parser's
	// allocations). Sets of attribute paths (the a of a.b = 1) and sets
	// merged into after they are done grow the usual way.
	building     *Attrs
	buildingMark int
	defScratch   []*AttrDef
	// formalScratch holds the formals of the functions being parsed.
	formalScratch []Formal
	// legacyOr is the `e or` call parseSelect made last; used as an
	// argument or list element it changes meaning in future Nix, which
	// warns about it.
	legacyOr Expr
}

func (p *parser) next() {
	if p.aLen > 0 {
		p.tok = p.ahead[p.aHead]
		p.aHead = (p.aHead + 1) % len(p.ahead)
		p.aLen--
		return
	}
	p.lx.scan(&p.tok)
}

// tokenHead is what the parser keeps of a token it moves past: a copy of
// the whole Token, in the hottest paths, cost noticeably more.
type tokenHead struct {
	Kind       TokenKind
	Start, End int
	Text       string
}

func (p *parser) head() tokenHead {
	return tokenHead{p.tok.Kind, p.tok.Start, p.tok.End, p.tok.Text}
}

// peek returns the n-th token after the current one (1 <= n <= 4). It
// stays valid until the parser moves on.
func (p *parser) peek(n int) *Token {
	for p.aLen < n {
		p.lx.scan(&p.ahead[(p.aHead+p.aLen)%len(p.ahead)])
		p.aLen++
	}
	return &p.ahead[(p.aHead+n-1)%len(p.ahead)]
}

func (p *parser) pos(offset int) Pos { return p.file.Pos(offset) }

func (p *parser) errorAt(offset int, msg string) {
	p.errorAtPos(p.pos(offset), msg)
}

func (p *parser) errorAtPos(pos Pos, msg string) {
	e := &Error{Pos: pos, Posn: p.file.Position(p.file.Offset(pos)), Msg: msg, File: p.file}
	p.errs.Add(e)
	if !p.cfg.Tolerant || len(p.errs) > 100 {
		panic(bailout{})
	}
}

// unexpected reports the current token as a syntax error; expecting, if
// not empty, lists what would have been accepted, in Nix's words.
func (p *parser) unexpected(expecting string) {
	msg := "syntax error, unexpected " + p.tok.Kind.String()
	if p.tok.Kind == ILLEGAL && p.tok.Err != "" {
		msg = p.tok.Err
	} else if expecting != "" {
		msg += ", expecting " + expecting
	}
	p.errorAt(p.tok.Start, msg)
}

// expect consumes a token of the given kind or reports an error. In
// tolerant mode it does not consume on error, so that the caller can
// resynchronise.
func (p *parser) expect(k TokenKind, expecting string) {
	if p.tok.Kind != k {
		if expecting == "" {
			expecting = k.String()
		}
		p.unexpected(expecting)
		return
	}
	p.next()
}

func (p *parser) parseFile() (e Expr) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			if e == nil {
				e = &Bad{Start: p.pos(0), End: p.pos(len(p.file.src))}
			}
		}
	}()
	p.next()
	e = p.parseExpr("end of file")
	for p.tok.Kind != EOF {
		p.unexpected("end of file")
		p.next()
	}
	return e
}

// enter guards against unbounded nesting.
func (p *parser) enter() {
	p.depth++
	if p.depth > p.cfg.MaxDepth {
		p.cfg.Tolerant = false // nothing sensible can follow
		p.errorAt(p.tok.Start, "expression nested too deeply (more than "+strconv.Itoa(p.cfg.MaxDepth)+" levels)")
	}
}

func (p *parser) leave() { p.depth-- }

// parseExpr parses a full expression. closer names the token the enclosing
// construct expects after it; Nix names it when an expression is followed
// by something that cannot continue it.
//
//	expr = expr_function
func (p *parser) parseExpr(closer string) Expr {
	p.enter()
	defer p.leave()
	e := p.parseFunction(closer)
	return e
}

// parseFunction parses the lowest-precedence forms.
//
//	expr_function = ID ':' expr_function
//	              | '{' formals '}' ['@' ID] ':' expr_function
//	              | ID '@' '{' formals '}' ':' expr_function
//	              | ASSERT expr ';' expr_function
//	              | WITH expr ';' expr_function
//	              | LET binds IN expr_function
//	              | expr_if
func (p *parser) parseFunction(closer string) Expr {
	start := p.tok.Start
	switch p.tok.Kind {
	case ID:
		switch p.peek(1).Kind {
		case COLON:
			name := p.tok.Text
			p.next()
			p.next()
			p.enter()
			body := p.parseFunction(closer)
			p.leave()
			return alloc(&p.nodes.lambdas, Lambda{Start: p.pos(start), End: end(body), Arg: name, ArgPos: p.pos(start), Body: body})
		case AT:
			name := p.tok.Text
			p.next()
			p.next()
			if p.tok.Kind != LBRACE {
				p.unexpected("'{'")
			}
			lam := p.parseFormals(start)
			lam.Arg, lam.ArgPos = name, p.pos(start)
			p.expect(COLON, "")
			p.enter()
			lam.Body = p.parseFunction(closer)
			p.leave()
			lam.End = end(lam.Body)
			p.checkFormals(lam)
			return lam
		}
	case LBRACE:
		if p.isFormals() {
			lam := p.parseFormals(start)
			if p.tok.Kind == AT {
				p.next()
				lam.Arg, lam.ArgPos = p.tok.Text, p.pos(p.tok.Start)
				p.expect(ID, "")
			}
			p.expect(COLON, "")
			p.enter()
			lam.Body = p.parseFunction(closer)
			p.leave()
			lam.End = end(lam.Body)
			p.checkFormals(lam)
			return lam
		}
	case ASSERT:
		p.next()
		cond := p.parseExpr("';'")
		p.expect(SEMI, "")
		p.enter()
		body := p.parseFunction(closer)
		p.leave()
		return alloc(&p.nodes.asserts, Assert{Start: p.pos(start), End: end(body), Cond: cond, Body: body})
	case WITH:
		p.next()
		attrs := p.parseExpr("';'")
		p.expect(SEMI, "")
		p.enter()
		body := p.parseFunction(closer)
		p.leave()
		return alloc(&p.nodes.withs, With{Start: p.pos(start), End: end(body), Attrs: attrs, Body: body})
	case LET:
		if p.peek(1).Kind == LBRACE {
			break // legacy let { … }, an expr_simple
		}
		p.next()
		attrs := p.parseBinds(IN, p.pos(start))
		if len(attrs.Dynamic) > 0 {
			p.errorAt(start, "dynamic attributes not allowed in let")
		}
		p.expect(IN, "")
		p.enter()
		body := p.parseFunction(closer)
		p.leave()
		attrs.Start = p.pos(start)
		return alloc(&p.nodes.lets, Let{Start: p.pos(start), End: end(body), Attrs: attrs, Body: body})
	}
	return p.parseIf(closer)
}

// isFormals decides, at '{', whether a function's formal parameters
// follow rather than an attribute set, by looking a few tokens ahead.
func (p *parser) isFormals() bool {
	t1 := p.peek(1)
	switch t1.Kind {
	case ELLIPSIS:
		return true
	case RBRACE:
		k := p.peek(2).Kind
		return k == COLON || k == AT
	case ID:
		switch p.peek(2).Kind {
		case COMMA, QUESTION:
			return true
		case RBRACE:
			k := p.peek(3).Kind
			return k == COLON || k == AT
		}
	}
	return false
}

// parseFormals parses the parameter set of a function.
//
//	formals = '{' [formal {',' formal} [',' ['...']] | '...'] '}'
//	formal  = ID ['?' expr]
func (p *parser) parseFormals(start int) *Lambda {
	lam := alloc(&p.nodes.lambdas, Lambda{Start: p.pos(start), HasFormals: true})
	// The formals collect in scratch space (a default may hold functions
	// of its own, whose formals go after these and are gone again before
	// the next is added), then move to a slab.
	mark := len(p.formalScratch)
	defer func() {
		lam.Formals = p.nodes.formals.copy(p.formalScratch[mark:])
		clear(p.formalScratch[mark:])
		p.formalScratch = p.formalScratch[:mark]
	}()
	p.expect(LBRACE, "")
	for {
		switch p.tok.Kind {
		case RBRACE:
			p.next()
			return lam
		case ELLIPSIS:
			lam.Ellipsis = true
			p.next()
			if p.tok.Kind != RBRACE {
				p.unexpected("'}'")
				p.skipTo(RBRACE)
			}
			p.next()
			return lam
		case ID:
			f := Formal{Pos: p.pos(p.tok.Start), Name: p.tok.Text}
			p.next()
			if p.tok.Kind == QUESTION {
				p.next()
				f.Default = p.parseExpr("'}' or ','")
			}
			p.formalScratch = append(p.formalScratch, f)
			switch p.tok.Kind {
			case COMMA:
				p.next()
				continue
			case RBRACE:
				continue
			}
			p.unexpected("'}' or ','")
			if !p.skipTo(RBRACE) {
				return lam
			}
		default:
			p.unexpected("")
			if !p.skipTo(RBRACE) {
				return lam
			}
		}
	}
}

// skipTo skips tokens up to (not including) k in tolerant mode; it reports
// whether k was found.
func (p *parser) skipTo(k TokenKind) bool {
	for p.tok.Kind != k && p.tok.Kind != EOF {
		p.next()
	}
	return p.tok.Kind == k
}

// checkFormals reports duplicate formals the way Nix does: the duplicate
// of the earliest name first, then an @-name that is also a formal (at the
// function's position).
func (p *parser) checkFormals(lam *Lambda) {
	first := map[string]int{}
	var dupName string
	var dupPos Pos
	dupRank := math.MaxInt
	for i, f := range lam.Formals {
		if j, ok := first[f.Name]; ok {
			if j < dupRank {
				dupRank, dupName, dupPos = j, f.Name, f.Pos
			}
			continue
		}
		first[f.Name] = i
	}
	if dupName != "" {
		p.errorAtPos(dupPos, "duplicate formal function argument '"+dupName+"'")
		return
	}
	if lam.Arg != "" {
		if _, ok := first[lam.Arg]; ok {
			p.errorAtPos(lam.Start, "duplicate formal function argument '"+lam.Arg+"'")
		}
	}
}

// parseIf parses a conditional or an operator expression.
//
//	expr_if = IF expr THEN expr ELSE expr | expr_op
func (p *parser) parseIf(closer string) Expr {
	if p.tok.Kind != IF {
		return p.parseOp(0, closer)
	}
	start := p.tok.Start
	p.next()
	cond := p.parseExpr("'then'")
	p.expect(THEN, "")
	then := p.parseExpr("'else'")
	p.expect(ELSE, "")
	els := p.parseExpr(closer)
	return alloc(&p.nodes.ifs, If{Start: p.pos(start), End: end(els), Cond: cond, Then: then, Else: els})
}

// Binary operator precedences, lowest first, as in Nix's grammar:
//
//	|> <| (when enabled), -> (right), || (left), && (left),
//	== != (non-assoc), < > <= >= (non-assoc), // (right), ! (prefix),
//	+ - (left), * / (left), ++ (right), ? (non-assoc), unary - (prefix).
const (
	precPipe = 1 + iota
	precImpl
	precOr
	precAnd
	precEq
	precCmp
	precUpdate
	precNot
	precAdd
	precMul
	precConcat
	precHasAttr
	precNegate
)

func binaryPrec(k TokenKind) (prec int, rightAssoc, nonAssoc bool) {
	switch k {
	case PIPE_INTO, PIPE_FROM:
		return precPipe, false, true
	case IMPL:
		return precImpl, true, false
	case OR:
		return precOr, false, false
	case AND:
		return precAnd, false, false
	case EQ, NEQ:
		return precEq, false, true
	case LT, GT, LEQ, GEQ:
		return precCmp, false, true
	case UPDATE:
		return precUpdate, true, false
	case PLUS, MINUS:
		return precAdd, false, false
	case STAR, SLASH:
		return precMul, false, false
	case CONCAT:
		return precConcat, true, false
	case QUESTION:
		return precHasAttr, false, true
	}
	return 0, false, false
}

// parseOp parses operators by precedence climbing: it returns the longest
// expression whose operators all bind at least as tightly as minPrec.
//
//	expr_op = '!' expr_op | '-' expr_op | expr_op BINOP expr_op
//	        | expr_op '?' attrpath | expr_app
func (p *parser) parseOp(minPrec int, closer string) Expr {
	p.enter()
	defer p.leave()
	var x Expr
	start := p.tok.Start
	switch p.tok.Kind {
	case NOT:
		p.next()
		operand := p.parseOp(precNot+1, closer)
		x = alloc(&p.nodes.unaries, UnaryOp{Start: p.pos(start), End: end(operand), Op: NOT, X: operand})
	case MINUS:
		p.next()
		operand := p.parseOp(precNegate, closer)
		x = alloc(&p.nodes.unaries, UnaryOp{Start: p.pos(start), End: end(operand), Op: MINUS, X: operand})
	default:
		x = p.parseApp(closer)
	}
	lastNonAssoc := 0
	// Each operator of a left-associative chain (1 + 2 + 3…) nests the
	// tree one level deeper, as parentheses would: count it.
	links := 0
	for {
		op := p.head()
		prec, right, nonAssoc := binaryPrec(op.Kind)
		if prec == 0 || prec < minPrec {
			break
		}
		if nonAssoc && prec == lastNonAssoc {
			p.unexpected("")
			p.next()
			continue
		}
		if op.Kind == PIPE_INTO || op.Kind == PIPE_FROM {
			if !p.cfg.PipeOperators {
				p.errs.Add(&Error{Pos: p.pos(op.Start), Posn: p.file.Position(op.Start), File: p.file,
					Msg: "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it"})
				if !p.cfg.Tolerant {
					panic(bailout{})
				}
			}
		}
		p.next()
		if op.Kind == QUESTION {
			path := p.parseAttrPath()
			x = alloc(&p.nodes.hasAttrs, HasAttr{Start: p.pos(start), End: p.pos(p.prevEnd(path)), OpPos: p.pos(op.Start), X: x, Path: path})
		} else {
			next := prec + 1
			if right {
				next = prec
			}
			yStart := p.pos(p.tok.Start)
			y := p.parseOp(next, closer)
			b := p.nodes.binaries.new()
			*b = BinaryOp{Start: p.pos(start), End: end(y), OpPos: p.pos(op.Start), Op: op.Kind, X: x, Y: y, YStart: yStart}
			x = b
			if !right {
				links++
				p.enter()
			}
		}
		if nonAssoc {
			lastNonAssoc = prec
		} else {
			lastNonAssoc = 0
		}
	}
	p.depth -= links
	return x
}

// prevEnd is the end offset of an attribute path.
func (p *parser) prevEnd(path []AttrName) int {
	if len(path) == 0 {
		return p.tok.Start
	}
	last := path[len(path)-1]
	if last.Expr != nil {
		_, e := last.Expr.Span()
		return p.file.Offset(e)
	}
	return p.file.Offset(last.Pos) + len(last.Name)
}

// startsSelect reports whether a token can start an expr_select, i.e. an
// argument of a function application or a list element.
func startsSelect(k TokenKind) bool {
	switch k {
	case ID, INT, FLOAT, QUOTE, IND_STRING_OPEN, PATH, HPATH, SPATH, URI,
		LPAREN, LET, REC, LBRACE, LBRACKET:
		return true
	}
	return false
}

// parseApp parses function application.
//
//	expr_app = expr_app expr_select | expr_select
func (p *parser) parseApp(closer string) Expr {
	// The call starts where its first token does, an opening parenthesis
	// included: that is where Nix reports "from call site".
	start := p.pos(p.tok.Start)
	fn := p.parseSelect(closer)
	if !startsSelect(p.tok.Kind) {
		return fn
	}
	call := p.nodes.calls.new()
	*call = Call{Start: start, Fn: fn}
	var argBuf [8]Expr
	args := argBuf[:0]
	for startsSelect(p.tok.Kind) {
		arg := p.parseSelect(closer)
		p.checkLegacyOr(arg)
		args = append(args, arg)
	}
	call.Args = p.nodes.exprs.copy(args)
	call.End = end(call.Args[len(call.Args)-1])
	return call
}

// checkLegacyOr warns when an `e or` call is an argument or a list
// element, where a future Nix will read `or` as a separate identifier.
func (p *parser) checkLegacyOr(x Expr) {
	if x == nil || x != p.legacyOr {
		return
	}
	p.legacyOr = nil
	if p.cfg.Warn != nil {
		p.cfg.Warn(NodePos(x), "This expression uses `or` as an identifier in a way that will change in a future Nix release.\n"+
			"Wrap this entire expression in parentheses to preserve its current meaning:\n    ("+p.sourceText(x)+")\n"+
			"Give feedback at https://github.com/NixOS/nix/pull/11121")
	}
}

// sourceText is the text x was parsed from.
func (p *parser) sourceText(x Expr) string {
	start, end := x.Span()
	return p.file.src[p.file.Offset(start):p.file.Offset(end)]
}

// parseSelect parses attribute selection.
//
//	expr_select = expr_simple '.' attrpath [OR_KW expr_select]
//	            | expr_simple OR_KW
//	            | expr_simple
func (p *parser) parseSelect(closer string) Expr {
	start := p.pos(p.tok.Start)
	x := p.parseSimple(closer)
	switch p.tok.Kind {
	case DOT:
		p.next()
		path := p.parseAttrPath()
		sel := p.nodes.selects.new()
		*sel = Select{Start: start, End: p.pos(p.prevEnd(path)), X: x, Path: path}
		if p.tok.Kind == OR_KW {
			p.next()
			p.enter()
			sel.Default = p.parseSelect(closer)
			p.leave()
			p.checkLegacyOr(sel.Default)
			sel.End = end(sel.Default)
		}
		return sel
	case OR_KW:
		// Kept for compatibility: `f or` applies f to a variable named or.
		t := p.tok
		p.next()
		// Nix places the variable (and so an "undefined variable 'or'"
		// error) at the start of the whole expression.
		v := &Var{Start: start, End: p.pos(t.End), Name: "or"}
		call := &Call{Start: start, End: v.End, Fn: x, Args: []Expr{v}}
		p.legacyOr = call
		return call
	}
	return x
}

// parseAttrPath parses a non-empty attribute path.
//
//	attrpath = attrname {'.' attrname}
//	attrname = ID | OR_KW | '"' string_parts '"' | DOLLAR_CURLY expr '}'
func (p *parser) parseAttrPath() []AttrName {
	mark := len(p.pathScratch)
	path := p.parseAttrPathScratch()
	p.pathScratch = p.pathScratch[:mark]
	return p.nodes.paths.copy(path)
}

// parseAttrPathScratch parses an attribute path into p.pathScratch, for a
// caller that does not keep it: the caller truncates p.pathScratch back
// to its length before the call when done. Parsing goes on meanwhile
// (a dynamic name, or the value of a binding, may hold paths of their
// own), but those are added after this one, or in a new array if the
// scratch space grows, so the returned slice stays intact.
func (p *parser) parseAttrPathScratch() []AttrName {
	mark := len(p.pathScratch)
	for {
		a, ok := p.parseAttrName()
		if !ok {
			break
		}
		p.pathScratch = append(p.pathScratch, a)
		if p.tok.Kind != DOT {
			break
		}
		p.next()
	}
	return p.pathScratch[mark:len(p.pathScratch):len(p.pathScratch)]
}

const attrNameExpected = "identifier or 'or' or '${' or '\"'"

func (p *parser) parseAttrName() (AttrName, bool) {
	t := p.head()
	switch t.Kind {
	case ID, OR_KW:
		p.next()
		return AttrName{Pos: p.pos(t.Start), Name: t.Text}, true
	case QUOTE:
		s := p.parseString()
		if s.IsLiteral() {
			return AttrName{Pos: p.pos(t.Start), Name: s.Literal()}, true
		}
		return AttrName{Pos: p.pos(t.Start), Expr: s}, true
	case DOLLAR_CURLY:
		p.next()
		e := p.parseExpr("'}'")
		p.expect(RBRACE, "")
		// "${"x"}" is a static name, as in Nix.
		if s, ok := e.(*String); ok && s.IsLiteral() {
			return AttrName{Pos: p.pos(t.Start), Name: s.Literal()}, true
		}
		return AttrName{Pos: p.pos(t.Start), Expr: e}, true
	}
	p.unexpected(attrNameExpected)
	return AttrName{}, false
}

// parseSimple parses the tightest-binding forms.
//
//	expr_simple = ID | INT | FLOAT | '"' string_parts '"'
//	            | IND_STRING_OPEN ind_string_parts IND_STRING_CLOSE
//	            | path_start [string_parts_interpolated] PATH_END
//	            | SPATH | URI | '(' expr ')'
//	            | LET '{' binds '}' | REC '{' binds '}' | '{' binds '}'
//	            | '[' expr_select* ']'
func (p *parser) parseSimple(closer string) Expr {
	t := p.head()
	start := p.pos(t.Start)
	switch t.Kind {
	case ID:
		p.next()
		if t.Text == "__curPos" {
			return &CurPos{Start: start, End: p.pos(t.End)}
		}
		v := p.nodes.vars.new()
		*v = Var{Start: start, End: p.pos(t.End), Name: t.Text}
		return v
	case INT:
		p.next()
		n, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			p.errorAt(t.Start, "invalid integer '"+t.Text+"'")
		}
		x := p.nodes.ints.new()
		*x = Int{Start: start, End: p.pos(t.End), Value: n}
		return x
	case FLOAT:
		p.next()
		f, err := strconv.ParseFloat(t.Text, 64)
		if err != nil {
			// Out of range (1e999, 1e-999) included, as strtod reports.
			p.errorAt(t.Start, "invalid float '"+t.Text+"'")
		}
		return alloc(&p.nodes.floats, Float{Start: start, End: p.pos(t.End), Value: f})
	case QUOTE:
		return p.parseString()
	case IND_STRING_OPEN:
		return p.parseIndString()
	case PATH, HPATH:
		return p.parsePath()
	case SPATH:
		p.next()
		return &SearchPath{Start: start, End: p.pos(t.End), Path: t.Text[1 : len(t.Text)-1]}
	case URI:
		p.next()
		str := p.nodes.strings.new()
		*str = String{Start: start, End: p.pos(t.End), URI: true}
		str.one[0] = StringPart{Pos: start, Text: t.Text}
		str.Parts = str.one[:]
		return str
	case LPAREN:
		p.next()
		e := p.parseExpr("')'")
		p.expect(RPAREN, "")
		p.legacyOr = nil // parenthesised, its meaning is settled
		return e
	case LET:
		// let { binds }: the legacy form, the value of its body attribute.
		p.next()
		lbrace := p.tok
		p.expect(LBRACE, "")
		attrs := p.parseBinds(RBRACE, p.pos(lbrace.Start))
		attrs.Rec = true
		attrs.Start = start
		attrs.End = p.pos(p.tok.End)
		p.expect(RBRACE, "")
		return &Select{Start: NoPos, End: attrs.End, X: attrs, Path: []AttrName{{Name: "body"}}}
	case REC:
		p.next()
		p.expect(LBRACE, "")
		attrs := p.parseBinds(RBRACE, start)
		attrs.Rec = true
		attrs.End = p.pos(p.tok.End)
		p.expect(RBRACE, "")
		return attrs
	case LBRACE:
		p.next()
		attrs := p.parseBinds(RBRACE, start)
		attrs.End = p.pos(p.tok.End)
		p.expect(RBRACE, "")
		return attrs
	case LBRACKET:
		p.next()
		list := alloc(&p.nodes.lists, List{Start: start})
		var elemBuf [16]Expr
		elems := elemBuf[:0]
		p.enter()
		for startsSelect(p.tok.Kind) {
			elem := p.parseSelect("']'")
			p.checkLegacyOr(elem)
			elems = append(elems, elem)
		}
		p.leave()
		list.Elems = p.nodes.exprs.copy(elems)
		list.End = p.pos(p.tok.End)
		p.expect(RBRACKET, "")
		return list
	}
	if p.tok.Kind == EOF || p.tok.Kind == ILLEGAL {
		p.unexpected("")
	} else {
		p.unexpected("")
	}
	if p.cfg.Tolerant && p.tok.Kind != EOF {
		p.next()
	}
	return &Bad{Start: start, End: p.pos(t.End)}
}

// parseString parses "…" with interpolations.
//
//	string = '"' {STR | DOLLAR_CURLY expr '}'} '"'
func (p *parser) parseString() *String {
	s := p.nodes.strings.new()
	*s = String{Start: p.pos(p.tok.Start)}
	p.next() // the opening quote
	mark := len(p.partScratch)
	for {
		switch p.tok.Kind {
		case STR:
			p.checkNUL(p.tok)
			p.partScratch = append(p.partScratch, StringPart{Pos: p.pos(p.tok.Start), Text: p.tok.Text})
			p.next()
			continue
		case DOLLAR_CURLY:
			pos := p.pos(p.tok.Start)
			p.next()
			e := p.parseExpr("'}'")
			p.expect(RBRACE, "")
			p.partScratch = append(p.partScratch, StringPart{Pos: pos, Expr: e})
			continue
		case QUOTE:
			s.End = p.pos(p.tok.End)
			p.next()
		default:
			p.unexpected("'\"'")
			s.End = p.pos(p.tok.Start)
		}
		p.setParts(s, mark)
		return s
	}
}

// setParts gives s the parts collected in p.partScratch from mark on (an
// empty text if there are none), and drops them from the scratch space.
func (p *parser) setParts(s *String, mark int) {
	parts := p.partScratch[mark:]
	switch len(parts) {
	case 0:
		s.one[0] = StringPart{Pos: s.Start}
		s.Parts = s.one[:]
	case 1:
		s.one[0] = parts[0]
		s.Parts = s.one[:]
	default:
		s.Parts = p.nodes.parts.copy(parts)
	}
	clear(parts) // hold no expressions
	p.partScratch = p.partScratch[:mark]
}

// checkNUL rejects string text with NUL bytes, which Nix strings cannot
// hold.
func (p *parser) checkNUL(t Token) {
	if strings.IndexByte(t.Text, 0) >= 0 {
		p.errorAt(t.Start, "input string '"+strings.ReplaceAll(t.Text, "\x00", "␀")+"' cannot be represented as Nix string because it contains null bytes")
	}
}

// parseIndString parses an indented string and strips its indentation.
//
//	ind_string = IND_STRING_OPEN {IND_STR | DOLLAR_CURLY expr '}'} IND_STRING_CLOSE
func (p *parser) parseIndString() *String {
	s := alloc(&p.nodes.strings, String{Start: p.pos(p.tok.Start), Indented: true})
	p.next()
	start := len(p.indScratch)
	defer func() {
		clear(p.indScratch[start:]) // hold no expressions or texts
		p.indScratch = p.indScratch[:start]
	}()
	for {
		switch p.tok.Kind {
		case IND_STR:
			p.checkNUL(p.tok)
			p.indScratch = append(p.indScratch, indPart{pos: p.pos(p.tok.Start), text: p.tok.Text, raw: p.tok.Raw})
			p.next()
			continue
		case DOLLAR_CURLY:
			pos := p.pos(p.tok.Start)
			p.next()
			e := p.parseExpr("'}'")
			p.expect(RBRACE, "")
			p.indScratch = append(p.indScratch, indPart{pos: pos, expr: e})
			continue
		case IND_STRING_CLOSE:
			s.End = p.pos(p.tok.End)
			p.next()
		default:
			p.unexpected("end of an indented string")
			s.End = p.pos(p.tok.Start)
		}
		mark := len(p.partScratch)
		p.partScratch, p.textScratch = stripIndentation(p.indScratch[start:], p.partScratch, p.textScratch)
		p.setParts(s, mark)
		return s
	}
}

// parsePath parses a path literal with optional interpolations.
//
//	path = (PATH | HPATH) {STR | DOLLAR_CURLY expr '}'} PATH_END
func (p *parser) parsePath() Expr {
	t := p.tok
	e := alloc(&p.nodes.pathLits, Path{Start: p.pos(t.Start), Raw: t.Text})
	switch {
	case t.Kind == HPATH:
		e.Kind = PathHome
		e.Value = p.cfg.Home + t.Text[1:]
	case strings.HasPrefix(t.Text, "/"):
		e.Kind = PathAbsolute
		e.Value = canonPath(t.Text)
	default:
		e.Kind = PathRelative
		e.Value = canonPath(p.cfg.BaseDir + "/" + t.Text)
	}
	if t.Kind == HPATH {
		e.Value = canonPath(e.Value)
	}
	// A trailing slash of the first piece survives: it separates it
	// from the interpolation that follows.
	if strings.HasSuffix(t.Text, "/") && len(t.Text) > 1 && e.Value != "/" {
		e.Value += "/"
	}
	p.next()
	for {
		switch p.tok.Kind {
		case STR:
			e.Parts = append(e.Parts, StringPart{Pos: p.pos(p.tok.Start), Text: p.tok.Text})
			p.next()
			continue
		case DOLLAR_CURLY:
			pos := p.pos(p.tok.Start)
			p.next()
			x := p.parseExpr("'}'")
			p.expect(RBRACE, "")
			e.Parts = append(e.Parts, StringPart{Pos: pos, Expr: x})
			continue
		case PATH_END:
			e.End = p.pos(p.tok.Start)
			p.next()
		default:
			p.unexpected("")
			e.End = p.pos(p.tok.Start)
		}
		// Literal pieces before the first interpolation belong to the
		// path itself (./a//b is one path).
		for len(e.Parts) > 0 && e.Parts[0].Expr == nil {
			joined := e.Value + e.Parts[0].Text
			e.Value = canonPath(joined)
			if strings.HasSuffix(joined, "/") && e.Value != "/" {
				e.Value += "/"
			}
			e.Parts = e.Parts[1:]
		}
		if len(e.Parts) == 0 {
			e.Parts = nil
		}
		return e
	}
}

// canonPath normalises an absolute path like Nix's canonPath: no "." or
// ".." components, no duplicate or trailing slashes.
func canonPath(s string) string {
	if s == "" {
		return ""
	}
	c := path.Clean(s)
	return c
}

// parseBinds parses the bindings of an attribute set or let, up to (not
// including) the token `until`, merging nested attribute paths.
//
//	binds = { attrpath '=' expr ';' | INHERIT ['(' expr ')'] {attrname} ';' }
func (p *parser) parseBinds(until TokenKind, start Pos) *Attrs {
	attrs := p.nodes.attrs.new()
	*attrs = Attrs{Start: start}
	m := newAttrMerger(p, attrs)
	outer, outerMark := p.building, p.buildingMark
	p.building, p.buildingMark = attrs, len(p.defScratch)
	defer func() {
		// Deferred, so that the set is left consistent even when a
		// bailout unwinds through it.
		attrs.Attrs = p.nodes.defPtrs.copy(p.defScratch[p.buildingMark:])
		clear(p.defScratch[p.buildingMark:])
		p.defScratch = p.defScratch[:p.buildingMark]
		p.building, p.buildingMark = outer, outerMark
	}()
	for p.tok.Kind != until && p.tok.Kind != EOF {
		switch p.tok.Kind {
		case INHERIT:
			p.parseInherit(m)
		case ID, OR_KW, QUOTE, DOLLAR_CURLY:
			pathStart := p.pos(p.tok.Start)
			// The path is only needed until the binding is added.
			mark := len(p.pathScratch)
			path := p.parseAttrPathScratch()
			if p.tok.Kind != ASSIGN {
				p.unexpected("'.' or '='")
				p.skipBinding(until)
				p.pathScratch = p.pathScratch[:mark]
				continue
			}
			p.next()
			// a.b.c = v nests v in two implicit sets.
			for range len(path) - 1 {
				p.enter()
			}
			value := p.parseExpr("';'")
			p.depth -= max(len(path)-1, 0)
			if p.tok.Kind != SEMI {
				p.unexpected("';'")
				p.skipBinding(until)
			} else {
				p.next()
			}
			m.addPath(path, pathStart, value)
			p.pathScratch = p.pathScratch[:mark]
		default:
			if until == RBRACE {
				p.unexpected("'inherit'")
			} else {
				p.unexpected("")
			}
			p.next()
		}
	}
	return attrs
}

// skipBinding resynchronises after a broken binding (tolerant mode).
func (p *parser) skipBinding(until TokenKind) {
	for p.tok.Kind != SEMI && p.tok.Kind != until && p.tok.Kind != EOF {
		p.next()
	}
	if p.tok.Kind == SEMI {
		p.next()
	}
}

// parseInherit parses inherit a b; and inherit (e) a b;.
func (p *parser) parseInherit(m *attrMerger) {
	p.next()
	var from *InheritFrom
	if p.tok.Kind == LPAREN {
		lp := p.tok
		p.next()
		e := p.parseExpr("')'")
		rp := p.tok
		p.expect(RPAREN, "")
		from = &InheritFrom{Start: p.pos(lp.Start), End: p.pos(rp.End), Index: len(m.attrs.InheritFrom)}
		m.attrs.InheritFrom = append(m.attrs.InheritFrom, e)
	}
	for p.tok.Kind != SEMI {
		t := p.tok
		var name string
		switch t.Kind {
		case ID, OR_KW:
			name = t.Text
			p.next()
		case QUOTE, DOLLAR_CURLY:
			a, _ := p.parseAttrName()
			if a.Expr != nil {
				p.errorAtPos(a.Pos, "dynamic attributes not allowed in inherit")
				continue
			}
			name = a.Name
		default:
			p.unexpected("")
			p.skipBinding(RBRACE)
			return
		}
		pos := p.pos(t.Start)
		def := p.nodes.defs.new()
		*def = AttrDef{Name: name, Pos: pos}
		if from == nil {
			def.Kind = AttrInherited
			def.Value = &Var{Start: pos, End: p.pos(t.End), Name: name}
		} else {
			def.Kind = AttrInheritedFrom
			def.Value = &Select{Start: pos, End: p.pos(t.End), X: from, Path: []AttrName{{Pos: pos, Name: name}}}
		}
		m.addInherited(def)
	}
	p.next()
}

// end returns the end position of e.
func end(e Expr) Pos {
	_, en := e.Span()
	return en
}
