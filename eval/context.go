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
	c := append(Context(nil), elems...)
	sort.Strings(c)
	out := c[:1]
	for _, e := range c[1:] {
		if e != out[len(out)-1] {
			out = append(out, e)
		}
	}
	return out
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

// ContextBuilder accumulates contexts cheaply.
type ContextBuilder struct {
	elems []string
}

// Add adds a context.
func (b *ContextBuilder) Add(c Context) { b.elems = append(b.elems, c...) }

// Context returns the accumulated context.
func (b *ContextBuilder) Context() Context { return NewContext(b.elems...) }
