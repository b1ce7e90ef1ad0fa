package analysis

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/nixl-project/nixl/lang"
)

// contains reports whether pos is inside e's span, the end included (a
// cursor just after a name is on it). Degenerate spans contain nothing.
func contains(e lang.Expr, pos lang.Pos) bool {
	s, en := e.Span()
	return en > s && s <= pos && pos <= en
}

// Path returns the nodes from the root down to the innermost node whose
// span contains pos.
func (f *File) Path(pos lang.Pos) []lang.Expr {
	if f.Expr == nil || !contains(f.Expr, pos) {
		return nil
	}
	path := []lang.Expr{f.Expr}
	for {
		next := childAt(path[len(path)-1], pos)
		if next == nil {
			return path
		}
		path = append(path, next)
	}
}

// childAt finds the child of e that contains pos, looking through the
// sets an attribute path creates (whose spans are empty): the result is
// then a node inside such a set, and the set is skipped.
func childAt(e lang.Expr, pos lang.Pos) lang.Expr {
	var best lang.Expr
	for _, c := range Children(e) {
		if contains(c, pos) {
			// A later child starting exactly at pos wins: the cursor is on
			// its first character rather than after the previous one.
			if best == nil {
				best = c
			} else if s, _ := c.Span(); s == pos {
				best = c
			}
			continue
		}
		if a, ok := c.(*lang.Attrs); ok {
			if s, en := a.Span(); en <= s {
				if inner := childAt(a, pos); inner != nil && best == nil {
					best = inner
				}
			}
		}
	}
	return best
}

// VarAt returns the variable at pos, or nil.
func (f *File) VarAt(pos lang.Pos) *lang.Var {
	path := f.Path(pos)
	if len(path) == 0 {
		return nil
	}
	v, _ := path[len(path)-1].(*lang.Var)
	return v
}

// DefOf returns the definition v refers to: nil for a global, a name from
// a with, or an undefined variable.
func (f *File) DefOf(v *lang.Var) *Def {
	if v.Binding.Kind != lang.Static || v.Binding.Global {
		return nil
	}
	return f.byPos[v.Binding.Def]
}

// DefOfAttr returns the definition made by an attribute.
func (f *File) DefOfAttr(a *lang.AttrDef) *Def { return f.byAttr[a] }

// DefAt returns the definition whose name is at pos, or nil.
func (f *File) DefAt(pos lang.Pos) *Def {
	var best *Def
	for _, d := range f.Defs {
		if d.NameStart <= pos && pos <= d.NameEnd && d.NameEnd > d.NameStart {
			if best == nil || d.NameStart >= best.NameStart {
				best = d
			}
		}
	}
	return best
}

// IsGlobal reports whether name is one of the global names.
func (f *File) IsGlobal(name string) bool { return f.globals[name] }

// AttrAt finds the element of a selection's attribute path at pos: the
// select (or has-attr) node's base expression, the path up to and
// including the element, and whether one was found.
func (f *File) AttrAt(pos lang.Pos) (base lang.Expr, path []lang.AttrName, ok bool) {
	nodes := f.Path(pos)
	for i := len(nodes) - 1; i >= 0; i-- {
		var x lang.Expr
		var p []lang.AttrName
		switch n := nodes[i].(type) {
		case *lang.Select:
			x, p = n.X, n.Path
		case *lang.HasAttr:
			x, p = n.X, n.Path
		default:
			continue
		}
		for j, a := range p {
			if a.Expr != nil {
				continue
			}
			s, e := f.nameSpan(a.Pos, 0)
			if s <= pos && pos <= e && e > s {
				return x, p[:j+1], true
			}
		}
		return nil, nil, false
	}
	return nil, nil, false
}

// StaticAttrs follows e to an attribute set literal when it can be known
// without evaluation: a set, a variable bound to one, a selection from
// one.
func (f *File) StaticAttrs(e lang.Expr) *lang.Attrs {
	budget := 64
	return f.staticAttrs(e, &budget)
}

func (f *File) staticAttrs(e lang.Expr, budget *int) *lang.Attrs {
	for ; *budget > 0; *budget-- {
		switch x := e.(type) {
		case *lang.Attrs:
			return x
		case *lang.Var:
			d := f.DefOf(x)
			if d == nil || d.Value == nil || d.Attr == nil || d.Attr.Kind != lang.AttrPlain {
				return nil
			}
			e = d.Value
		case *lang.Select:
			if x.Default != nil {
				return nil
			}
			a := f.staticAttrs(x.X, budget)
			var v lang.Expr
			for i, p := range x.Path {
				if p.Expr != nil || a == nil {
					return nil
				}
				ad := a.Lookup(p.Name)
				if ad == nil || ad.Kind != lang.AttrPlain {
					return nil
				}
				if i == len(x.Path)-1 {
					v = ad.Value
				} else {
					a = f.staticAttrs(ad.Value, budget)
				}
			}
			e = v
		case *lang.Let:
			e = x.Body
		default:
			return nil
		}
	}
	return nil
}

// Target is where go-to-definition leads: a definition in this file, or
// another file.
type Target struct {
	Def  *Def
	Path string
}

// Definition finds what the thing at pos refers to: the definition of a
// variable (let, rec, formal, argument, inherit), of an attribute
// selected from a set known statically, or the file a path literal names
// (a directory means its default.nix).
func (f *File) Definition(pos lang.Pos) (Target, bool) {
	path := f.Path(pos)
	if len(path) == 0 {
		return Target{}, false
	}
	switch n := path[len(path)-1].(type) {
	case *lang.Var:
		if d := f.DefOf(n); d != nil {
			return Target{Def: d}, true
		}
	case *lang.Path:
		if len(n.Parts) > 0 {
			return Target{}, false
		}
		p := n.Value
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "default.nix")
		}
		if _, err := os.Stat(p); err != nil {
			return Target{}, false
		}
		return Target{Path: p}, true
	}
	if base, apath, ok := f.AttrAt(pos); ok {
		a := f.StaticAttrs(base)
		for i, p := range apath {
			if a == nil {
				break
			}
			ad := a.Lookup(p.Name)
			if ad == nil {
				break
			}
			if i == len(apath)-1 {
				if d := f.byAttr[ad]; d != nil {
					return Target{Def: d}, true
				}
				break
			}
			a = f.StaticAttrs(ad.Value)
		}
	}
	if d := f.DefAt(pos); d != nil {
		return Target{Def: d}, true
	}
	return Target{}, false
}

// Scope is what is in scope at a position.
type Scope struct {
	// Defs are the visible definitions, innermost first, each name once.
	Defs []*Def
	// Withs are the enclosing with expressions, innermost first; their
	// sets' attributes are in scope too, below every Def.
	Withs []*lang.With
}

// ScopeAt returns the names in scope at pos.
func (f *File) ScopeAt(pos lang.Pos) Scope {
	path := f.Path(pos)
	var groups [][]*Def
	var withs []*lang.With
	for i, n := range path {
		var child lang.Expr
		if i+1 < len(path) {
			child = path[i+1]
		}
		switch n := n.(type) {
		case *lang.Let:
			groups = append(groups, f.scopeDefs(n.Attrs))
		case *lang.Attrs:
			if n.Rec {
				groups = append(groups, f.scopeDefs(n))
			}
		case *lang.Lambda:
			var g []*Def
			if n.Arg != "" {
				if d := f.byPos[n.ArgPos]; d != nil {
					g = append(g, d)
				}
			}
			for _, fm := range n.Formals {
				if d := f.byPos[fm.Pos]; d != nil {
					g = append(g, d)
				}
			}
			groups = append(groups, g)
		case *lang.With:
			if child != nil && child == n.Body {
				withs = append(withs, n)
			}
		}
	}
	var out Scope
	seen := map[string]bool{}
	for i := len(groups) - 1; i >= 0; i-- {
		for _, d := range groups[i] {
			if !seen[d.Name] {
				seen[d.Name] = true
				out.Defs = append(out.Defs, d)
			}
		}
	}
	for i := len(withs) - 1; i >= 0; i-- {
		out.Withs = append(out.Withs, withs[i])
	}
	return out
}

func (f *File) scopeDefs(a *lang.Attrs) []*Def {
	var out []*Def
	for _, ad := range a.Attrs {
		if d := f.byAttr[ad]; d != nil {
			out = append(out, d)
		}
	}
	return out
}

// SymbolKind classifies a symbol.
type SymbolKind uint8

const (
	SymbolVariable  SymbolKind = iota // a let binding
	SymbolFunction                    // a binding whose value is a function
	SymbolField                       // an attribute
	SymbolNamespace                   // an attribute whose value is a set
)

// Symbol is an entry of a file's outline.
type Symbol struct {
	Name string
	Kind SymbolKind
	Def  *Def
	// Start and End span the whole binding, from its name to the end of
	// its value.
	Start, End lang.Pos
	Children   []Symbol
}

// Symbols returns the file's outline: the let bindings and attributes of
// its top-level expression (looking through functions, with, assert and
// let), and the attributes of the sets they hold.
func (f *File) Symbols() []Symbol {
	var out []Symbol
	e := f.Expr
	for n := 0; e != nil && n < 1000; n++ {
		switch x := e.(type) {
		case *lang.Lambda:
			e = x.Body
			continue
		case *lang.With:
			e = x.Body
			continue
		case *lang.Assert:
			e = x.Body
			continue
		case *lang.Let:
			out = append(out, f.attrSymbols(x.Attrs, 0)...)
			e = x.Body
			continue
		case *lang.Attrs:
			out = append(out, f.attrSymbols(x, 0)...)
		}
		break
	}
	return out
}

func (f *File) attrSymbols(a *lang.Attrs, level int) []Symbol {
	var out []Symbol
	for _, ad := range a.Attrs {
		d := f.byAttr[ad]
		if d == nil {
			continue
		}
		s := Symbol{Name: ad.Name, Def: d, Start: d.NameStart, End: d.NameEnd, Kind: SymbolField}
		if d.Kind == DefLet {
			s.Kind = SymbolVariable
		}
		if ad.Value != nil {
			if _, e := ad.Value.Span(); e > s.End {
				s.End = e
			}
			switch v := ad.Value.(type) {
			case *lang.Lambda:
				s.Kind = SymbolFunction
			case *lang.Attrs:
				s.Kind = SymbolNamespace
				if level < 8 {
					s.Children = f.attrSymbols(v, level+1)
				}
				for _, c := range s.Children {
					if c.End > s.End {
						s.End = c.End
					}
				}
			}
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}
