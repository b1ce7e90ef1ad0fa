package eval

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

// PrintOptions control how values are shown.
type PrintOptions struct {
	// Force evaluates thunks while printing (--strict); otherwise they
	// print as «thunk».
	Force bool
	// MaxDepth, MaxAttrs, MaxListItems and MaxStringLength bound the
	// output (0: unbounded); what is cut is shown as «… elided».
	MaxDepth        int
	MaxAttrs        int
	MaxListItems    int
	MaxStringLength int
	// Derivations prints sets with type = "derivation" as «derivation
	// /nix/store/…drv», as the REPL and error messages do.
	Derivations bool
	// TrackRepeated prints «repeated» for a list or set met again while
	// printing it (as nix-instantiate does).
	TrackRepeated bool
	// ErrorsInline prints an error met while forcing as «error: …».
	ErrorsInline bool
	// Ambiguous is nix-instantiate's output mode: unforced values print as
	// <CODE>, functions as <LAMBDA>, <PRIMOP>, <PRIMOP-APP>.
	Ambiguous bool
}

// errorPrintOptions are the bounds Nix uses for values in error messages.
var errorPrintOptions = PrintOptions{
	MaxDepth: 10, MaxAttrs: 10, MaxListItems: 10, MaxStringLength: 1024,
	Derivations: true,
}

// ShowValueShort prints v for an error message: bounded, not forcing.
func (e *Eval) ShowValueShort(v Value) string {
	var b strings.Builder
	p := printer{e: e, b: &b, opts: errorPrintOptions}
	p.value(&v, 0)
	return b.String()
}

// PrintValue prints v as nix-instantiate --eval does; with strict, thunks
// are forced (and errors returned).
func (e *Eval) PrintValue(v Value, opts PrintOptions) (string, error) {
	var b strings.Builder
	p := printer{e: e, b: &b, opts: opts, seen: map[unsafe.Pointer]bool{}}
	p.value(&v, 0)
	return b.String(), p.err
}

type printer struct {
	e            *Eval
	b            *strings.Builder
	opts         PrintOptions
	seen         map[unsafe.Pointer]bool
	attrsPrinted int
	listPrinted  int
	err          error
}

func (p *printer) str(s string) { p.b.WriteString(s) }

// enter counts a level of nesting in the evaluation depth, so that
// printing a deep (or infinite) value ends in an error rather than a
// stack overflow; when it fails it prints «error» and leave must not be
// called.
func (p *printer) enter() bool {
	if p.e == nil {
		return true
	}
	if err := p.e.enterNested(lang.NoPos); err != nil {
		if p.err == nil {
			p.err = err
		}
		p.str("«error: " + err.Error() + "»")
		return false
	}
	return true
}

func (p *printer) leave() {
	if p.e != nil {
		p.e.leaveNested()
	}
}

// PrintAttrName writes an attribute name, quoted if needed.
func PrintAttrName(b *strings.Builder, name string) { lang.WriteAttrName(b, name) }

// FormatFloat formats a float as Nix prints values.
func FormatFloat(f float64) string {
	return lang.FormatFloat(f)
}

func (p *printer) elided(n int, one, many string) {
	if n == 1 {
		fmt.Fprintf(p.b, "«%d %s elided»", n, one)
	} else {
		fmt.Fprintf(p.b, "«%d %s elided»", n, many)
	}
}

// value prints the value in slot; for lists the slot's address is their
// identity for «repeated», as in Nix.
func (p *printer) value(slot *Value, depth int) {
	v := *slot
	if v.k == KindThunk {
		if !p.opts.Force {
			t := v.thunk()
			switch {
			case t.isDone():
				v = t.val
			case p.opts.Ambiguous && t.val.k == kindBlackhole:
				p.str("«potential infinite recursion»")
				return
			case p.opts.Ambiguous:
				p.str("<CODE>")
				return
			default:
				p.str("«thunk»")
				return
			}
		} else if err := p.e.Force(&v); err != nil {
			if p.opts.ErrorsInline {
				p.str("«error: " + err.Error() + "»")
				return
			}
			if p.err == nil {
				p.err = err
			}
			p.str("«error»")
			return
		}
	}
	switch v.k {
	case KindNull:
		p.str("null")
	case KindBool:
		if v.BoolValue() {
			p.str("true")
		} else {
			p.str("false")
		}
	case KindInt:
		p.str(strconv.FormatInt(v.IntValue(), 10))
	case KindFloat:
		p.str(FormatFloat(v.FloatValue()))
	case KindString:
		s := v.Str()
		if p.opts.MaxStringLength > 0 && len(s) > p.opts.MaxStringLength {
			lang.WriteStringLiteral(p.b, s[:p.opts.MaxStringLength])
			p.str(" ")
			p.elided(len(s)-p.opts.MaxStringLength, "byte", "bytes")
			return
		}
		lang.WriteStringLiteral(p.b, s)
	case KindPath:
		p.str(v.Str())
	case KindAttrs:
		p.attrs(v, depth)
	case KindList:
		p.list(v, slot, depth)
	case KindLambda:
		if p.opts.Derivations {
			c := v.Closure()
			p.str("«lambda")
			if c.Name() != "" {
				p.str(" " + c.Name())
			}
			if pos := p.e.fset.Position(c.Pos()); pos.IsValid() {
				p.str(" @ " + pos.String())
			}
			p.str("»")
		} else if p.opts.Ambiguous && v.f&flagUnforced != 0 {
			// A function written where Nix makes a thunk (an attribute,
			// a list element, an argument) is one to Nix until forced.
			p.str("<CODE>")
		} else {
			p.str("<LAMBDA>")
		}
	case KindPrimOp:
		if p.opts.Derivations {
			p.str("«primop " + v.PrimOpValue().Name + "»")
		} else {
			p.str("<PRIMOP>")
		}
	case KindPrimOpApp:
		if p.opts.Derivations {
			p.str("«partially applied primop " + v.PrimOpAppValue().Op.Name + "»")
		} else {
			p.str("<PRIMOP-APP>")
		}
	default:
		p.str("«invalid»")
	}
}

// repeated prints «repeated» for a set or list already printed. Like Nix,
// sets are known by their attributes (wherever they are), lists by the
// slot holding them: the same list reached through two different
// variables prints twice before repeating.
func (p *printer) repeated(key unsafe.Pointer) bool {
	if p.seen == nil || !p.opts.TrackRepeated {
		return false
	}
	if p.seen[key] {
		p.str("«repeated»")
		return true
	}
	p.seen[key] = true
	return false
}

func (p *printer) attrs(v Value, depth int) {
	attrs := v.AttrsValue()
	if p.opts.Derivations {
		if t := attrs.Get(symType); t != nil {
			tv := t.Value
			if tv.k == KindThunk && p.opts.Force {
				_ = p.e.Force(&tv)
			}
			if tv.k == KindString && tv.Str() == "derivation" {
				p.str("«derivation")
				if d := attrs.Get(symDrvPath); d != nil {
					dv := d.Value
					if dv.k == KindThunk && p.opts.Force {
						_ = p.e.Force(&dv)
					}
					if dv.k == KindString {
						p.str(" " + dv.Str())
					} else {
						p.str(" ???")
					}
				}
				p.str("»")
				return
			}
		}
	}
	if len(attrs) == 0 {
		p.str("{ }")
		return
	}
	if p.repeated(v.p) {
		return
	}
	if p.opts.MaxDepth > 0 && depth >= p.opts.MaxDepth {
		p.str("{ ... }")
		return
	}
	if !p.enter() {
		return
	}
	defer p.leave()
	p.str("{ ")
	sorted := attrs.Lexicographic()
	for i, a := range sorted {
		if p.opts.MaxAttrs > 0 && p.attrsPrinted >= p.opts.MaxAttrs {
			p.elided(len(sorted)-i, "attribute", "attributes")
			p.str(" ")
			break
		}
		PrintAttrName(p.b, a.Name.String())
		p.str(" = ")
		p.value(&a.Value, depth+1)
		p.str("; ")
		p.attrsPrinted++
	}
	p.str("}")
}

func (p *printer) list(v Value, slot *Value, depth int) {
	elems := v.ListValue()
	if len(elems) == 0 {
		p.str("[ ]")
		return
	}
	if p.repeated(unsafe.Pointer(slot)) {
		return
	}
	if p.opts.MaxDepth > 0 && depth >= p.opts.MaxDepth {
		p.str("[ ... ]")
		return
	}
	if !p.enter() {
		return
	}
	defer p.leave()
	p.str("[ ")
	for i := range elems {
		if p.opts.MaxListItems > 0 && p.listPrinted >= p.opts.MaxListItems {
			p.elided(len(elems)-i, "item", "items")
			p.str(" ")
			break
		}
		p.value(&elems[i], depth+1)
		p.str(" ")
		p.listPrinted++
	}
	p.str("]")
}
