package lang

import (
	"sort"
	"strconv"
	"strings"
)

// Show prints e the way `nix-instantiate --parse` does: on one line, fully
// parenthesised and desugared (a - b is (__sub a b), nested attribute
// paths are merged, attributes and formals are sorted).
func Show(e Expr) string {
	var b strings.Builder
	Fprint(&b, e)
	return b.String()
}

// Fprint writes Show(e) to b.
func Fprint(b *strings.Builder, e Expr) {
	s := shower{b: b}
	s.expr(e)
}

type shower struct {
	b *strings.Builder
}

func (s shower) str(x string) { s.b.WriteString(x) }

// WriteStringLiteral writes x as a Nix string literal with Nix's escapes.
func WriteStringLiteral(b *strings.Builder, x string) {
	b.WriteByte('"')
	for i := 0; i < len(x); i++ {
		switch c := x[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$':
			if i+1 < len(x) && x[i+1] == '{' {
				b.WriteString(`\$`)
			} else {
				b.WriteByte('$')
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// FormatFloat formats a float like C++'s default stream output (%g with
// six significant digits), which is how Nix shows floats in expressions.
func FormatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func (s shower) parts(parts []StringPart) {
	s.str("(")
	for i, p := range parts {
		if i > 0 {
			s.str(" + ")
		}
		if p.Expr != nil {
			s.expr(p.Expr)
		} else {
			WriteStringLiteral(s.b, p.Text)
		}
	}
	s.str(")")
}

func (s shower) call(fn string, args ...Expr) {
	s.str("(")
	s.str(fn)
	for _, a := range args {
		s.str(" ")
		s.expr(a)
	}
	s.str(")")
}

func (s shower) expr(e Expr) {
	switch e := e.(type) {
	case *Int:
		s.str(strconv.FormatInt(e.Value, 10))
	case *Float:
		s.str(FormatFloat(e.Value))
	case *String:
		if e.IsLiteral() {
			WriteStringLiteral(s.b, e.Literal())
		} else {
			s.parts(e.Parts)
		}
	case *Path:
		if len(e.Parts) == 0 {
			s.str(e.Value)
			return
		}
		s.str("(")
		s.str(e.Value)
		for _, p := range e.Parts {
			s.str(" + ")
			if p.Expr != nil {
				s.expr(p.Expr)
			} else {
				WriteStringLiteral(s.b, p.Text)
			}
		}
		s.str(")")
	case *SearchPath:
		s.str("(__findFile __nixPath ")
		WriteStringLiteral(s.b, e.Path)
		s.str(")")
	case *Var:
		s.str(e.Name)
	case *CurPos:
		s.str("__curPos")
	case *Select:
		s.str("(")
		s.expr(e.X)
		s.str(").")
		s.str(ShowAttrPath(e.Path))
		if e.Default != nil {
			s.str(" or (")
			s.expr(e.Default)
			s.str(")")
		}
	case *HasAttr:
		s.str("((")
		s.expr(e.X)
		s.str(") ? ")
		s.str(ShowAttrPath(e.Path))
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
		s.str("(")
		if e.HasFormals {
			s.str("{ ")
			formals := append([]Formal(nil), e.Formals...)
			sort.SliceStable(formals, func(i, j int) bool { return formals[i].Name < formals[j].Name })
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
		s.str("assert ")
		s.expr(e.Cond)
		s.str("; ")
		s.expr(e.Body)
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

func (s shower) binary(e *BinaryOp) {
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
func (s shower) bindings(a *Attrs) {
	defs := append([]*AttrDef(nil), a.Attrs...)
	sort.SliceStable(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
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
		s.str(d.Name)
	}
	if !first {
		s.str("; ")
	}
	for i, from := range a.InheritFrom {
		var names []string
		for _, d := range defs {
			if d.Kind == AttrInheritedFrom && d.Value.(*Select).X.(*InheritFrom).Index == i {
				names = append(names, d.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		s.str("inherit (")
		s.expr(from)
		s.str(")")
		for _, n := range names {
			s.str(" ")
			s.str(n)
		}
		s.str("; ")
	}
	for _, d := range defs {
		if d.Kind != AttrPlain {
			continue
		}
		s.str(d.Name)
		s.str(" = ")
		s.expr(d.Value)
		s.str("; ")
	}
	for _, d := range a.Dynamic {
		s.str(`"${`)
		s.expr(d.Name)
		s.str(`}" = `)
		s.expr(d.Value)
		s.str("; ")
	}
}
