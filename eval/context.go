package eval

import "sort"

// Context is the string context of a string: the store paths it refers
// to, each encoded as Nix encodes them in builtins.getContext terms:
//
//	/nix/store/…-x            a plain store path (opaque)
//	=/nix/store/…-x.drv       a derivation and its whole closure
//	!out!/nix/store/…-x.drv   an output of a derivation
//
// A Context is sorted and free of duplicates; nil is the empty context.
type Context []string

// ContextOpaque is the context element for a store path.
func ContextOpaque(path string) string { return path }

// ContextDrvDeep is the context element for a derivation with its closure.
func ContextDrvDeep(drvPath string) string { return "=" + drvPath }

// ContextBuilt is the context element for an output of a derivation.
func ContextBuilt(drvPath, output string) string { return "!" + output + "!" + drvPath }

// NewContext makes a context from elements in any order.
func NewContext(elems ...string) Context {
	if len(elems) == 0 {
		return nil
	}
	return sortContext(append(Context(nil), elems...))
}

// sortContext sorts c in place and drops duplicates.
func sortContext(c Context) Context {
	if isSortedContext(c) {
		return c
	}
	if len(c) <= 8 {
		// Most contexts are tiny (the outputs of a few derivations),
		// where sort.Strings costs more than the sorting.
		for i := 1; i < len(c); i++ {
			for j := i; j > 0 && c[j] < c[j-1]; j-- {
				c[j], c[j-1] = c[j-1], c[j]
			}
		}
	} else {
		sort.Strings(c)
	}
	out := c[:1]
	for _, e := range c[1:] {
		if e != out[len(out)-1] {
			out = append(out, e)
		}
	}
	return out
}

func isSortedContext(c Context) bool {
	for i := 1; i < len(c); i++ {
		if c[i-1] >= c[i] {
			return false
		}
	}
	return true
}

// Union merges two contexts.
func (c Context) Union(d Context) Context {
	if len(d) == 0 {
		return c
	}
	if len(c) == 0 {
		return d
	}
	out := make(Context, 0, len(c)+len(d))
	i, j := 0, 0
	for i < len(c) && j < len(d) {
		switch {
		case c[i] < d[j]:
			out = append(out, c[i])
			i++
		case c[i] > d[j]:
			out = append(out, d[j])
			j++
		default:
			out = append(out, c[i])
			i++
			j++
		}
	}
	out = append(out, c[i:]...)
	return append(out, d[j:]...)
}

// ContextBuilder accumulates contexts cheaply. A string usually gets
// its context from one part only; that context is then returned as it
// is, without a copy.
type ContextBuilder struct {
	single Context  // the only non-empty context added, while elems is nil
	elems  []string // everything added, once there is more than one
}

// Add adds a context.
func (b *ContextBuilder) Add(c Context) {
	switch {
	case len(c) == 0:
	case b.single == nil && b.elems == nil:
		b.single = c
	default:
		if b.single != nil {
			b.elems = append(b.elems, b.single...)
			b.single = nil
		}
		if n := len(b.elems) + len(c); n > cap(b.elems) {
			// Doubling: append grows big slices by a quarter, which
			// made a context collected from 10,000 strings cost five
			// times its size in copies.
			b.elems = append(make(Context, 0, max(2*cap(b.elems), n)), b.elems...)
		}
		b.elems = append(b.elems, c...)
	}
}

// empty reports whether nothing but empty contexts was added.
func (b *ContextBuilder) empty() bool { return b.single == nil && len(b.elems) == 0 }

// Context returns the accumulated context.
func (b *ContextBuilder) Context() Context {
	if b.single != nil {
		return b.single[:len(b.single):len(b.single)]
	}
	if len(b.elems) == 0 {
		return nil
	}
	return sortContext(b.elems)
}
