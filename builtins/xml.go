package builtins

import (
	"math"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// This file renders values as Nix's XML (toXML, nixl eval --xml): an
// indented document of <attrs>, <list>, <string value="…" /> and so on,
// with functions shown by their patterns and derivations shown once.

var (
	symXMLDrvPath = eval.Intern("drvPath")
	symXMLOutPath = eval.Intern("outPath")
)

// xmlAttr is an XML attribute; a tag's attributes are written sorted by
// name, as Nix keeps them in a sorted map.
type xmlAttr struct{ name, value string }

type xmlWriter struct {
	b    strings.Builder
	open []string
}

func (w *xmlWriter) indent() {
	for range w.open {
		w.b.WriteString("  ")
	}
}

func (w *xmlWriter) tag(name string, attrs []xmlAttr) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	sortXMLAttrs(attrs)
	for _, a := range attrs {
		w.b.WriteByte(' ')
		w.b.WriteString(a.name)
		w.b.WriteString(`="`)
		writeXMLEscaped(&w.b, a.value)
		w.b.WriteByte('"')
	}
}

func (w *xmlWriter) openElement(name string, attrs ...xmlAttr) {
	w.indent()
	w.tag(name, attrs)
	w.b.WriteString(">\n")
	w.open = append(w.open, name)
}

func (w *xmlWriter) closeElement() {
	name := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	w.indent()
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteString(">\n")
}

func (w *xmlWriter) emptyElement(name string, attrs ...xmlAttr) {
	w.indent()
	w.tag(name, attrs)
	w.b.WriteString(" />\n")
}

func sortXMLAttrs(a []xmlAttr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].name < a[j-1].name; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// writeXMLEscaped escapes what Nix's XML writer escapes: the markup
// characters and newlines (tabs and carriage returns pass through).
func writeXMLEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '>':
			b.WriteString("&gt;")
		case '\n':
			b.WriteString("&#xA;")
		default:
			b.WriteByte(c)
		}
	}
}

// formatXMLFloat prints a float like C++'s default stream output (%g
// with six significant digits).
func formatXMLFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

type xmlEncoder struct {
	e        *eval.Eval
	w        xmlWriter
	ctx      eval.ContextBuilder
	strict   bool
	location bool
	drvsSeen map[string]bool
	depth    int
	limit    int
}

// encodeXML renders v as a whole document. base counts the evaluation
// frames already on Nix's stack (towards the depth limit).
func encodeXML(e *eval.Eval, v eval.Value, pos lang.Pos, strict, location bool, base int) (string, eval.Context, error) {
	x := &xmlEncoder{e: e, strict: strict, location: location, drvsSeen: map[string]bool{}, depth: base, limit: serialDepthLimit(e)}
	x.w.b.WriteString("<?xml version='1.0' encoding='utf-8'?>\n")
	x.w.openElement("expr")
	if err := x.value(v, pos); err != nil {
		return "", nil, err
	}
	x.w.closeElement()
	return x.w.b.String(), x.ctx.Context(), nil
}

// posAttrs are the location attributes of an element: path (for a file),
// line and column.
func (x *xmlEncoder) posAttrs(pos lang.Pos) []xmlAttr {
	posn := x.e.FileSet().Position(pos)
	attrs := []xmlAttr{
		{"line", strconv.Itoa(posn.Line)},
		{"column", strconv.Itoa(posn.Col)},
	}
	if strings.HasPrefix(posn.Filename, "/") {
		attrs = append(attrs, xmlAttr{"path", posn.Filename})
	}
	return attrs
}

func (x *xmlEncoder) value(v eval.Value, pos lang.Pos) error {
	if x.depth > x.limit {
		return eval.Errorf(eval.ErrStackOverflow, pos, "stack overflow; max-call-depth exceeded")
	}
	x.depth++
	defer func() { x.depth-- }()
	if err := serialForce(x.e, &v, pos, x.strict); err != nil {
		return err
	}
	switch v.Kind() {
	case eval.KindInt:
		x.w.emptyElement("int", xmlAttr{"value", strconv.FormatInt(v.IntValue(), 10)})
	case eval.KindBool:
		x.w.emptyElement("bool", xmlAttr{"value", strconv.FormatBool(v.BoolValue())})
	case eval.KindString:
		x.ctx.Add(v.Context())
		x.w.emptyElement("string", xmlAttr{"value", v.Str()})
	case eval.KindPath:
		x.w.emptyElement("path", xmlAttr{"value", v.Str()})
	case eval.KindNull:
		x.w.emptyElement("null")
	case eval.KindFloat:
		x.w.emptyElement("float", xmlAttr{"value", formatXMLFloat(v.FloatValue())})
	case eval.KindAttrs:
		return x.attrs(v)
	case eval.KindList:
		x.w.openElement("list")
		elems := v.ListValue()
		for i := range elems {
			if err := x.value(elems[i], pos); err != nil {
				return err
			}
		}
		x.w.closeElement()
	case eval.KindLambda:
		c := v.Closure()
		var attrs []xmlAttr
		if x.location {
			attrs = x.posAttrs(c.Pos())
		}
		x.w.openElement("function", attrs...)
		n := c.Node()
		if n.HasFormals {
			var pat []xmlAttr
			if n.Arg != "" {
				pat = append(pat, xmlAttr{"name", n.Arg})
			}
			if n.Ellipsis {
				pat = append(pat, xmlAttr{"ellipsis", "1"})
			}
			x.w.openElement("attrspat", pat...)
			names, _, _ := c.Formals()
			sorted := append([]string(nil), names...)
			xmlSortStrings(sorted)
			for _, name := range sorted {
				x.w.emptyElement("attr", xmlAttr{"name", name})
			}
			x.w.closeElement()
		} else {
			x.w.emptyElement("varpat", xmlAttr{"name", n.Arg})
		}
		x.w.closeElement()
	default:
		// Built-in functions and values not evaluated.
		x.w.emptyElement("unevaluated")
	}
	return nil
}

func (x *xmlEncoder) attrs(v eval.Value) error {
	isDrv, err := x.e.IsDerivation(v)
	if err != nil {
		return err
	}
	attrs := v.AttrsValue()
	if !isDrv {
		x.w.openElement("attrs")
		if err := x.showAttrs(attrs); err != nil {
			return err
		}
		x.w.closeElement()
		return nil
	}
	var tagAttrs []xmlAttr
	drvPath := ""
	if a := attrs.Get(symXMLDrvPath); a != nil {
		if x.strict {
			if err := x.e.ForceAt(&a.Value, a.Pos()); err != nil {
				return err
			}
		}
		if a.Value.Kind() == eval.KindString {
			drvPath = a.Value.Str()
			tagAttrs = append(tagAttrs, xmlAttr{"drvPath", drvPath})
		}
	}
	if a := attrs.Get(symXMLOutPath); a != nil {
		if x.strict {
			if err := x.e.ForceAt(&a.Value, a.Pos()); err != nil {
				return err
			}
		}
		if a.Value.Kind() == eval.KindString {
			tagAttrs = append(tagAttrs, xmlAttr{"outPath", a.Value.Str()})
		}
	}
	x.w.openElement("derivation", tagAttrs...)
	if drvPath != "" && !x.drvsSeen[drvPath] {
		x.drvsSeen[drvPath] = true
		if err := x.showAttrs(attrs); err != nil {
			return err
		}
	} else {
		x.w.emptyElement("repeated")
	}
	x.w.closeElement()
	return nil
}

func (x *xmlEncoder) showAttrs(attrs eval.Attrs) error {
	for _, a := range attrs.Lexicographic() {
		tagAttrs := []xmlAttr{{"name", a.Name.String()}}
		if x.location && a.Pos().IsValid() {
			tagAttrs = append(tagAttrs, x.posAttrs(a.Pos())...)
		}
		x.w.openElement("attr", tagAttrs...)
		if err := x.value(a.Value, a.Pos()); err != nil {
			return err
		}
		x.w.closeElement()
	}
	return nil
}

func xmlSortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
