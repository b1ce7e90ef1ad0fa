package lang

import (
	"io"
	"slices"
	"strconv"
	"strings"
)

// Show prints e the way `nix-instantiate --parse` does: on one line, fully
// parenthesised and desugared (a - b is (__sub a b), nested attribute
// paths are merged, attributes and formals are sorted).
func Show(e Expr) string {
	var s shower
	s.expr(e)
	return string(s.buf)
}

// Fprint writes Show(e) to b.
func Fprint(b *strings.Builder, e Expr) {
	ShowTo(b, e)
}

// ShowTo writes Show(e) to w as it goes, in pieces of some tens of
// kilobytes, so that printing a big tree needs no buffer the size of its
// text. It returns the first write error.
func ShowTo(w io.Writer, e Expr) error {
	s := shower{w: w, buf: make([]byte, 0, showFlushSize+4<<10)}
	s.expr(e)
	s.flush()
	return s.err
}

// showFlushSize is how much text ShowTo collects before writing it out.
const showFlushSize = 64 << 10

// ShowSource is Show in a form that always parses back to a tree with the
// same Show: floats keep full precision in Nix's float syntax and
// interpolated paths are written as paths.
func ShowSource(e Expr) string {
	s := shower{source: true}
	s.expr(e)
	return string(s.buf)
}

// shower appends the printed form to buf, which it writes to w (if set)
// whenever it has grown past showFlushSize.
type shower struct {
	buf    []byte
	w      io.Writer
	err    error
	source bool
	// defs and formals are scratch space for sorting the attributes and
	// formals of the sets and functions being printed, nested ones after
	// those of their parents.
	defs    []*AttrDef
	formals []Formal
}

func (s *shower) flush() {
	if s.w == nil || len(s.buf) == 0 {
		return
	}
	if s.err == nil {
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
}

// floatLiteral writes f in Nix's float syntax, exactly.
func floatLiteral(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if hasExp {
		return mant + "e" + exp
	}
	return mant
}

func (s *shower) str(x string) { s.buf = append(s.buf, x...) }

// literalEscape is the escape Nix writes for x[i] in a string literal, or
// "" if the byte stands for itself.
func literalEscape(x string, i int) string {
	switch x[i] {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '$':
		if i+1 < len(x) && x[i+1] == '{' {
			return `\$`
		}
	}
	return ""
}

// mayNeedEscape marks the bytes literalEscape may escape, so that runs of
// other bytes are copied at once.
var mayNeedEscape = [256]bool{'"': true, '\\': true, '\n': true, '\r': true, '\t': true, '$': true}

// WriteStringLiteral writes x as a Nix string literal with Nix's escapes.
func WriteStringLiteral(b *strings.Builder, x string) {
	b.WriteByte('"')
	from := 0
	for i := 0; i < len(x); i++ {
		if !mayNeedEscape[x[i]] {
			continue
		}
		if esc := literalEscape(x, i); esc != "" {
			b.WriteString(x[from:i])
			b.WriteString(esc)
			from = i + 1
		}
	}
	b.WriteString(x[from:])
	b.WriteByte('"')
}

// appendStringLiteral is WriteStringLiteral appending to buf.
func appendStringLiteral(buf []byte, x string) []byte {
	buf = append(buf, '"')
	from := 0
	for i := 0; i < len(x); i++ {
		if !mayNeedEscape[x[i]] {
			continue
		}
		if esc := literalEscape(x, i); esc != "" {
			buf = append(buf, x[from:i]...)
			buf = append(buf, esc...)
			from = i + 1
		}
	}
	buf = append(buf, x[from:]...)
	return append(buf, '"')
}

// IsPlainIdentifier reports whether an attribute name can be written
// without quotes: an identifier that is not a keyword (`or` is allowed,
// as it is as an attribute name).
func IsPlainIdentifier(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return false
		}
	}
	k := keywordKind(s)
	return k == ID || k == OR_KW
}

// WriteAttrName writes an attribute name, quoted when it is not a plain
// identifier, as Nix prints them.
func WriteAttrName(b *strings.Builder, name string) {
	if IsPlainIdentifier(name) {
		b.WriteString(name)
	} else {
		WriteStringLiteral(b, name)
	}
}

// appendAttrName is WriteAttrName appending to buf.
func appendAttrName(buf []byte, name string) []byte {
	if IsPlainIdentifier(name) {
		return append(buf, name...)
	}
	return appendStringLiteral(buf, name)
}

// FormatFloat formats a float like C++'s default stream output (%g with
// six significant digits), which is how Nix shows floats in expressions.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func (s *shower) parts(parts []StringPart) {
	s.str("(")
	for i, p := range parts {
		if i > 0 {
			s.str(" + ")
		}
		if p.Expr != nil {
			s.expr(p.Expr)
		} else {
			s.buf = appendStringLiteral(s.buf, p.Text)
		}
	}
	s.str(")")
}

// attrPath writes an attribute path.
func (s *shower) attrPath(path []AttrName) {
	for i, a := range path {
		if i > 0 {
			s.str(".")
		}
		if a.Expr != nil {
			s.dynamicName(a.Expr)
		} else {
			s.buf = appendAttrName(s.buf, a.Name)
		}
	}
}

// dynamicName writes a computed attribute name: "${e}" as Nix shows it,
// or, in source form, the string itself or ${e}, which parse back alike.
func (s *shower) dynamicName(e Expr) {
	if s.source {
		if str, ok := e.(*String); ok {
			s.expr(str)
			return
		}
		s.str("${")
		s.expr(e)
		s.str("}")
		return
	}
	s.str(`"${`)
	s.expr(e)
	s.str(`}"`)
}

// interpolated writes string parts in string syntax ("a${b}c"), which
// keeps the meaning (every part coerced to a string) on a reparse.
// Adjacent literal parts are written as one, so that escapes work across
// their boundary.
func (s *shower) interpolated(parts []StringPart) {
	s.str(`"`)
	for i := 0; i < len(parts); i++ {
		if parts[i].Expr != nil {
			s.str("${")
			s.expr(parts[i].Expr)
			s.str("}")
			continue
		}
		text := parts[i].Text
		for i+1 < len(parts) && parts[i+1].Expr == nil {
			i++
			text += parts[i].Text
		}
		out := string(appendStringLiteral(nil, text))
		out = out[1 : len(out)-1]
		if strings.HasSuffix(text, "$") && i+1 < len(parts) {
			out = out[:len(out)-1] + `\$` // "$${" would not interpolate
		}
		s.str(out)
	}
	s.str(`"`)
}

// call writes (fn x y).
func (s *shower) call(fn string, x, y Expr) {
	s.str("(")
	s.str(fn)
	s.str(" ")
	s.expr(x)
	s.str(" ")
	s.expr(y)
	s.str(")")
}

func (s *shower) expr(e Expr) {
	if len(s.buf) >= showFlushSize {
		s.flush()
	}
	if s.err != nil {
		return // nothing more can be written
	}
	switch e := e.(type) {
	case *Int:
		s.buf = strconv.AppendInt(s.buf, e.Value, 10)
	case *Float:
		if s.source {
			s.str(floatLiteral(e.Value))
		} else {
			s.buf = strconv.AppendFloat(s.buf, e.Value, 'g', 6, 64) // FormatFloat
		}
	case *String:
		switch {
		case e.IsLiteral():
			s.buf = appendStringLiteral(s.buf, e.Literal())
		case s.source:
			s.interpolated(e.Parts)
		default:
			s.parts(e.Parts)
		}
	case *Path:
		if len(e.Parts) == 0 {
			if s.source && e.Value == "/" {
				s.str("/.") // "/" alone is not a path literal
			} else {
				s.str(e.Value)
			}
			return
		}
		if s.source {
			s.str(e.Value) // ends with "/" or is followed by ${…}: a path
			for _, p := range e.Parts {
				if p.Expr != nil {
					s.str("${")
					s.expr(p.Expr)
					s.str("}")
				} else {
					s.str(p.Text)
				}
			}
			return
		}
		s.str("(")
		s.str(e.Value)
		for _, p := range e.Parts {
			s.str(" + ")
			if p.Expr != nil {
				s.expr(p.Expr)
			} else {
				s.buf = appendStringLiteral(s.buf, p.Text)
			}
		}
		s.str(")")
	case *SearchPath:
		s.str("(__findFile __nixPath ")
		s.buf = appendStringLiteral(s.buf, e.Path)
		s.str(")")
	case *Var:
		s.str(e.Name)
	case *CurPos:
		s.str("__curPos")
	case *Select:
		s.str("(")
		s.expr(e.X)
		s.str(").")
		s.attrPath(e.Path)
		if e.Default != nil {
			s.str(" or (")
			s.expr(e.Default)
			s.str(")")
		}
	case *HasAttr:
		s.str("((")
		s.expr(e.X)
		s.str(") ? ")
		s.attrPath(e.Path)
		s.str(")")
	case *Attrs:
		if e.Rec {
			s.str("rec ")
		}
		s.str("{ ")
		s.bindings(e)
		s.str("}")
	case *InheritFrom:
		s.str("(inherit-from)")
	case *List:
		s.str("[ ")
		for _, x := range e.Elems {
			s.str("(")
			s.expr(x)
			s.str(") ")
		}
		s.str("]")
	case *Lambda:
		s.lambda(e)
	case *Call:
		s.str("(")
		s.expr(e.Fn)
		for _, a := range e.Args {
			s.str(" ")
			s.expr(a)
		}
		s.str(")")
	case *Let:
		s.str("(let ")
		s.bindings(e.Attrs)
		s.str("in ")
		s.expr(e.Body)
		s.str(")")
	case *With:
		s.str("(with ")
		s.expr(e.Attrs)
		s.str("; ")
		s.expr(e.Body)
		s.str(")")
	case *If:
		s.str("(if ")
		s.expr(e.Cond)
		s.str(" then ")
		s.expr(e.Then)
		s.str(" else ")
		s.expr(e.Else)
		s.str(")")
	case *Assert:
		if s.source {
			s.str("(")
		}
		s.str("assert ")
		s.expr(e.Cond)
		s.str("; ")
		s.expr(e.Body)
		if s.source {
			s.str(")")
		}
	case *UnaryOp:
		if e.Op == NOT {
			s.str("(! ")
			s.expr(e.X)
			s.str(")")
		} else {
			s.str("(__sub 0 ")
			s.expr(e.X)
			s.str(")")
		}
	case *BinaryOp:
		s.binary(e)
	case *Bad:
		s.str("«error»")
	}
}

func (s *shower) lambda(e *Lambda) {
	s.str("(")
	if e.HasFormals {
		s.str("{ ")
		mark := len(s.formals)
		s.formals = append(s.formals, e.Formals...)
		formals := s.formals[mark:]
		if !slices.IsSortedFunc(formals, compareFormals) {
			slices.SortStableFunc(formals, compareFormals)
		}
		for i, f := range formals {
			if i > 0 {
				s.str(", ")
			}
			s.str(f.Name)
			if f.Default != nil {
				s.str(" ? ")
				s.expr(f.Default)
			}
		}
		clear(s.formals[mark:]) // hold no expressions
		s.formals = s.formals[:mark]
		if e.Ellipsis {
			if len(formals) > 0 {
				s.str(", ")
			}
			s.str("...")
		}
		s.str(" }")
		if e.Arg != "" {
			s.str(" @ ")
		}
	}
	s.str(e.Arg)
	s.str(": ")
	s.expr(e.Body)
	s.str(")")
}

func compareFormals(a, b Formal) int { return strings.Compare(a.Name, b.Name) }

func compareDefs(a, b *AttrDef) int { return strings.Compare(a.Name, b.Name) }

func (s *shower) binary(e *BinaryOp) {
	switch e.Op {
	case MINUS:
		s.call("__sub", e.X, e.Y)
	case STAR:
		s.call("__mul", e.X, e.Y)
	case SLASH:
		s.call("__div", e.X, e.Y)
	case LT:
		s.call("__lessThan", e.X, e.Y)
	case GT:
		s.call("__lessThan", e.Y, e.X)
	case LEQ:
		s.str("(! ")
		s.call("__lessThan", e.Y, e.X)
		s.str(")")
	case GEQ:
		s.str("(! ")
		s.call("__lessThan", e.X, e.Y)
		s.str(")")
	case PIPE_INTO:
		s.str("(")
		s.expr(e.Y)
		s.str(" ")
		s.expr(e.X)
		s.str(")")
	case PIPE_FROM:
		s.str("(")
		s.expr(e.X)
		s.str(" ")
		s.expr(e.Y)
		s.str(")")
	default:
		s.str("(")
		s.expr(e.X)
		s.str(" ")
		s.str(binaryOpText(e.Op))
		s.str(" ")
		s.expr(e.Y)
		s.str(")")
	}
}

func binaryOpText(k TokenKind) string {
	switch k {
	case PLUS:
		return "+"
	case EQ:
		return "=="
	case NEQ:
		return "!="
	case AND:
		return "&&"
	case OR:
		return "||"
	case IMPL:
		return "->"
	case UPDATE:
		return "//"
	case CONCAT:
		return "++"
	}
	return k.String()
}

// bindings prints the bindings of a set or let: plain inherits, then
// inherit (e) groups, then definitions, all sorted by name, then dynamic
// attributes in source order.
func (s *shower) bindings(a *Attrs) {
	// Sorted in scratch space; nested sets append theirs after it (the
	// slice may move, but defs keeps this part).
	mark := len(s.defs)
	s.defs = append(s.defs, a.Attrs...)
	defs := s.defs[mark:]
	if !slices.IsSortedFunc(defs, compareDefs) {
		slices.SortStableFunc(defs, compareDefs)
	}
	first := true
	for _, d := range defs {
		if d.Kind != AttrInherited {
			continue
		}
		if first {
			s.str("inherit")
			first = false
		}
		s.str(" ")
		s.buf = appendAttrName(s.buf, d.Name)
	}
	if !first {
		s.str("; ")
	}
	for i, from := range a.InheritFrom {
		inheritedFrom := func(d *AttrDef) bool {
			return d.Kind == AttrInheritedFrom && d.Value.(*Select).X.(*InheritFrom).Index == i
		}
		if !slices.ContainsFunc(defs, inheritedFrom) {
			continue
		}
		s.str("inherit (")
		s.expr(from)
		s.str(")")
		for _, d := range defs {
			if inheritedFrom(d) {
				s.str(" ")
				s.buf = appendAttrName(s.buf, d.Name)
			}
		}
		s.str("; ")
	}
	for _, d := range defs {
		if d.Kind != AttrPlain {
			continue
		}
		s.buf = appendAttrName(s.buf, d.Name)
		s.str(" = ")
		s.expr(d.Value)
		s.str("; ")
	}
	clear(s.defs[mark:]) // hold no nodes
	s.defs = s.defs[:mark]
	for _, d := range a.Dynamic {
		s.dynamicName(d.Name)
		s.str(" = ")
		s.expr(d.Value)
		s.str("; ")
	}
}
