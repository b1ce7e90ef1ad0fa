package eval

import (
	"cmp"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/lang"
)

// Attr is one attribute of a set.
type Attr struct {
	Name  Sym
	pos   int32 // lang.Pos of the definition, compactly
	Value Value
}

// Pos is where the attribute was defined (lang.NoPos if unknown).
func (a *Attr) Pos() lang.Pos { return lang.Pos(a.pos) }

// NewAttr makes an attribute.
func NewAttr(name Sym, v Value, pos lang.Pos) Attr {
	return Attr{Name: name, Value: v, pos: int32(pos)}
}

// Attrs is the body of an attribute set: attributes sorted by Sym, names
// unique.
type Attrs []Attr

// Get returns the attribute called name, or nil.
func (a Attrs) Get(name Sym) *Attr {
	if len(a) <= 8 {
		for i := range a {
			if a[i].Name == name {
				return &a[i]
			}
		}
		return nil
	}
	// Interpolation first: symbols are numbered in the order names are
	// first seen, so the names of a big set made in one go (listToAttrs
	// of name0 … name99999) are nearly consecutive numbers, and a guess
	// from the ends lands on or next to the name. A few guesses, then
	// binary search of what is left.
	lo, hi := 0, len(a)-1
	for range 3 {
		first, last := a[lo].Name, a[hi].Name
		if name < first || name > last {
			return nil
		}
		if first == last {
			break
		}
		m := lo + int(uint64(name-first)*uint64(hi-lo)/uint64(last-first))
		switch {
		case a[m].Name == name:
			return &a[m]
		case a[m].Name < name:
			lo = m + 1
		default:
			hi = m - 1
		}
		if lo > hi {
			return nil
		}
	}
	hi++ // binary search of [lo, hi)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(a) && a[lo].Name == name {
		return &a[lo]
	}
	return nil
}

// SortAttrs sorts attributes by symbol and drops later duplicates (the
// first definition of a name wins, as in listToAttrs).
func SortAttrs(a Attrs) Attrs {
	if len(a) < 2 {
		return a
	}
	sorted := true
	for i := 1; i < len(a); i++ {
		if a[i-1].Name >= a[i].Name {
			sorted = false
			break
		}
	}
	if sorted {
		return a
	}
	slices.SortStableFunc(a, func(x, y Attr) int { return cmp.Compare(x.Name, y.Name) })
	out := a[:1]
	for _, x := range a[1:] {
		if x.Name != out[len(out)-1].Name {
			out = append(out, x)
		}
	}
	return out
}

// Lexicographic returns the attributes in the lexicographic order of
// their names, the order Nix shows them in.
func (a Attrs) Lexicographic() []*Attr {
	// Interned names never change, and appending to the table leaves
	// the entries already there in place: a copy of the slice header
	// taken under the lock is good for every symbol of a.
	symtab.RLock()
	names := symtab.names
	symtab.RUnlock()
	sorted := make([]*Attr, len(a))
	if len(a) <= 12 {
		for i := range a {
			sorted[i] = &a[i]
		}
		for i := 1; i < len(sorted); i++ {
			for j := i; j > 0 && names[sorted[j].Name] < names[sorted[j-1].Name]; j-- {
				sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
			}
		}
		return sorted
	}
	// A big set is sorted by the names' first eight bytes, kept beside
	// the pointers, and only ties compare the names themselves: most
	// comparisons then read no string (whose bytes are all over the heap).
	keyed := make([]keyedAttr, len(a))
	for i := range a {
		keyed[i] = keyedAttr{key: prefixKey(names[a[i].Name]), attr: &a[i]}
	}
	slices.SortFunc(keyed, func(x, y keyedAttr) int {
		if x.key != y.key {
			return cmp.Compare(x.key, y.key)
		}
		return strings.Compare(names[x.attr.Name], names[y.attr.Name])
	})
	for i := range keyed {
		sorted[i] = keyed[i].attr
	}
	return sorted
}

type keyedAttr struct {
	key  uint64
	attr *Attr
}

// prefixKey is the first eight bytes of s, big-endian, zero-padded: keys
// compare as the strings do, or equal.
func prefixKey(s string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}

// AttrsBuilder collects attributes and makes a set.
type AttrsBuilder struct {
	attrs Attrs
}

// NewAttrsBuilder returns a builder with room for n attributes.
func NewAttrsBuilder(n int) *AttrsBuilder { return &AttrsBuilder{attrs: make(Attrs, 0, n)} }

// Add adds an attribute; for a repeated name the first one wins.
func (b *AttrsBuilder) Add(name Sym, v Value) { b.attrs = append(b.attrs, Attr{Name: name, Value: v}) }

// AddPos adds an attribute with its definition position.
func (b *AttrsBuilder) AddPos(name Sym, v Value, pos lang.Pos) {
	b.attrs = append(b.attrs, Attr{Name: name, Value: v, pos: int32(pos)})
}

// AddString adds an attribute by name.
func (b *AttrsBuilder) AddString(name string, v Value) { b.Add(Intern(name), v) }

// Value makes the set.
func (b *AttrsBuilder) Value() Value { return AttrsValue(SortAttrs(b.attrs)) }
