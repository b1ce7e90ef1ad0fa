package lang

import "strings"

// attrMerger adds bindings to an attribute set while parsing, merging
// nested attribute paths and reporting duplicates the way Nix does at
// parse time.
type attrMerger struct {
	p     *parser
	attrs *Attrs
}

func newAttrMerger(p *parser, attrs *Attrs) *attrMerger {
	return &attrMerger{p: p, attrs: attrs}
}

// indexThreshold is the size from which a set gets a name index; smaller
// sets are searched linearly, which is faster and allocates nothing.
const indexThreshold = 32

func (p *parser) lookupAttr(a *Attrs, name string) (int, bool) {
	if len(a.Attrs) < indexThreshold {
		for i, d := range a.Attrs {
			if d.Name == name {
				return i, true
			}
		}
		return 0, false
	}
	if p.attrIndex == nil {
		p.attrIndex = map[*Attrs]map[string]int{}
	}
	idx := p.attrIndex[a]
	if idx == nil {
		idx = make(map[string]int, len(a.Attrs)*2)
		for i, d := range a.Attrs {
			idx[d.Name] = i
		}
		p.attrIndex[a] = idx
	}
	i, ok := idx[name]
	return i, ok
}

func (p *parser) appendAttr(a *Attrs, def *AttrDef) {
	if idx := p.attrIndex[a]; idx != nil {
		idx[def.Name] = len(a.Attrs)
	}
	if a == p.building {
		// The set parseBinds is filling: its attributes sit at the top
		// of defScratch, each nested set parsed meanwhile having taken
		// its own away before this one adds more.
		p.defScratch = append(p.defScratch, def)
		a.Attrs = p.defScratch[p.buildingMark:len(p.defScratch):len(p.defScratch)]
	} else {
		a.Attrs = append(a.Attrs, def)
	}
	if def.Kind == AttrPlain {
		// Nix names a function after the attribute it is bound to, and
		// the functions its body returns right away (curried arguments).
		for lam, ok := def.Value.(*Lambda); ok; lam, ok = lam.Body.(*Lambda) {
			lam.Name = def.Name
		}
	}
}

// addPath adds `path = value;`.
func (m *attrMerger) addPath(path []AttrName, pathPos Pos, value Expr) {
	if len(path) == 0 {
		return
	}
	p := m.p
	attrs := m.attrs
	for i := 0; i < len(path)-1; i++ {
		a := path[i]
		if a.Expr != nil {
			nested := &Attrs{Start: pathPos, End: pathPos, Implicit: true}
			attrs.Dynamic = append(attrs.Dynamic, alloc(&p.nodes.dynDefs, DynamicAttrDef{Pos: pathPos, Name: a.Expr, Value: nested}))
			attrs = nested
			continue
		}
		if j, ok := p.lookupAttr(attrs, a.Name); ok {
			def := attrs.Attrs[j]
			nested, isAttrs := def.Value.(*Attrs)
			if def.Kind == AttrInherited || !isAttrs {
				p.dupAttr(path, pathPos, def.Pos)
				return
			}
			attrs = nested
			continue
		}
		nested := p.nodes.attrs.new()
		*nested = Attrs{Start: pathPos, End: pathPos, Implicit: true}
		def := p.nodes.defs.new()
		*def = AttrDef{Name: a.Name, Pos: pathPos, Value: nested}
		p.appendAttr(attrs, def)
		attrs = nested
	}
	last := path[len(path)-1]
	if last.Expr != nil {
		attrs.Dynamic = append(attrs.Dynamic, alloc(&p.nodes.dynDefs, DynamicAttrDef{Pos: pathPos, Name: last.Expr, Value: value}))
		return
	}
	def := p.nodes.defs.new()
	*def = AttrDef{Name: last.Name, Pos: pathPos, Value: value}
	p.addAttr(attrs, path, def)
}

// addAttr adds a static attribute; when both the existing and the new
// value are attribute sets, their attributes are merged (recursively).
func (p *parser) addAttr(attrs *Attrs, path []AttrName, def *AttrDef) {
	j, ok := p.lookupAttr(attrs, def.Name)
	if !ok {
		p.appendAttr(attrs, def)
		return
	}
	old := attrs.Attrs[j]
	oldSet, ok1 := old.Value.(*Attrs)
	newSet, ok2 := def.Value.(*Attrs)
	if !ok1 || !ok2 || old.Kind != AttrPlain || def.Kind != AttrPlain {
		p.dupAttr(path, def.Pos, old.Pos)
		return
	}
	shift := len(oldSet.InheritFrom)
	for _, ad := range newSet.Attrs {
		if ad.Kind == AttrInheritedFrom {
			ad.Value.(*Select).X.(*InheritFrom).Index += shift
		}
		sub := append(path[:len(path):len(path)], AttrName{Pos: ad.Pos, Name: ad.Name})
		p.addAttr(oldSet, sub, ad)
	}
	oldSet.Dynamic = append(oldSet.Dynamic, newSet.Dynamic...)
	oldSet.InheritFrom = append(oldSet.InheritFrom, newSet.InheritFrom...)
	newSet.Attrs, newSet.Dynamic, newSet.InheritFrom = nil, nil, nil
}

// addInherited adds an attribute from inherit.
func (m *attrMerger) addInherited(def *AttrDef) {
	p := m.p
	if j, ok := p.lookupAttr(m.attrs, def.Name); ok {
		p.dupAttr([]AttrName{{Name: def.Name}}, def.Pos, m.attrs.Attrs[j].Pos)
		return
	}
	p.appendAttr(m.attrs, def)
}

func (p *parser) dupAttr(path []AttrName, pos, prev Pos) {
	prevPosn := p.file.Position(p.file.Offset(prev))
	p.errorAtPos(pos, "attribute '"+ShowAttrPath(path)+"' already defined at "+prevPosn.String())
}

// ShowAttrPath renders an attribute path as Nix does in messages: names
// joined by dots (quoted when not identifiers), dynamic parts as "${…}".
func ShowAttrPath(path []AttrName) string {
	var b strings.Builder
	for i, a := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if a.Expr != nil {
			b.WriteString(`"${`)
			b.WriteString(Show(a.Expr))
			b.WriteString(`}"`)
		} else {
			WriteAttrName(&b, a.Name)
		}
	}
	return b.String()
}
