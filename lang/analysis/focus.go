package analysis

import (
	"strings"

	"github.com/nixl-project/nixl/lang"
)

// UnknownArgument starts the message of the error that evaluating a
// function argument raises in a focused expression (see Focus): the
// value depends on an argument, which is not known.
const UnknownArgument = "nixl: unknown function argument "

// Focus returns an expression that evaluates repl in the scope that holds
// at pos in root: the let bindings, recursive attributes and with sets
// around pos are kept, and each enclosing function's arguments become
// bindings whose value is their default or, without one, an error whose
// message starts with UnknownArgument. The result shares nodes with root
// and must be resolved (lang.Resolve) before evaluation, which changes
// the bindings of those nodes: focus a tree parsed for the purpose.
func Focus(root lang.Expr, pos lang.Pos, repl lang.Expr) lang.Expr {
	var path []lang.Expr
	if root != nil && contains(root, pos) {
		path = append(path, root)
		for {
			next := childAt(path[len(path)-1], pos)
			if next == nil {
				break
			}
			path = append(path, next)
		}
	}
	return rebuild(path, nil, repl)
}

// FocusOn returns an expression that evaluates target, a node of root,
// in its scope (see Focus), or nil when target is not in root.
func FocusOn(root, target lang.Expr) lang.Expr {
	path := pathTo(root, target, 0)
	if path == nil {
		return nil
	}
	// path ends with target; the enclosing nodes are wrapped around it.
	return rebuild(path[:len(path)-1], target, target)
}

// pathTo returns the nodes from e down to target, or nil.
func pathTo(e, target lang.Expr, depth int) []lang.Expr {
	if e == nil || depth > lang.DefaultMaxDepth*2 {
		return nil
	}
	if e == target {
		return []lang.Expr{e}
	}
	ts, te := target.Span()
	s, en := e.Span()
	if en > s && (ts < s || te > en) {
		return nil // target is not inside e
	}
	for _, c := range Children(e) {
		if p := pathTo(c, target, depth+1); p != nil {
			return append([]lang.Expr{e}, p...)
		}
	}
	return nil
}

// rebuild wraps inner, which replaces the node after path (last, or the
// inside of path's last node when last is nil), in the scopes of path.
func rebuild(path []lang.Expr, last, inner lang.Expr) lang.Expr {
	child := last
	for i := len(path) - 1; i >= 0; i-- {
		inner = wrap(path[i], child, inner)
		child = path[i]
	}
	return inner
}

// wrap puts inner, which stands for child of n (nil: somewhere inside
// n), in the scope n gives its child.
func wrap(n, child, inner lang.Expr) lang.Expr {
	switch n := n.(type) {
	case *lang.Let:
		if inheritedValue(n.Attrs, child) {
			return inner
		}
		return &lang.Let{Start: n.Start, End: n.End, Attrs: n.Attrs, Body: inner}
	case *lang.Attrs:
		if !n.Rec || inheritedValue(n, child) {
			return inner
		}
		attrs := &lang.Attrs{Start: n.Start, End: n.End, Rec: true, Attrs: n.Attrs, InheritFrom: n.InheritFrom}
		return &lang.Let{Start: n.Start, End: n.End, Attrs: attrs, Body: inner}
	case *lang.Lambda:
		attrs := &lang.Attrs{Start: n.Start, End: n.Start, Rec: true}
		if n.Arg != "" {
			attrs.Attrs = append(attrs.Attrs, &lang.AttrDef{Name: n.Arg, Pos: n.ArgPos, Value: unknownArgument(n.Arg, n.ArgPos)})
		}
		for _, fm := range n.Formals {
			v := fm.Default
			if v == nil {
				v = unknownArgument(fm.Name, fm.Pos)
			}
			if n.Arg == fm.Name {
				continue
			}
			attrs.Attrs = append(attrs.Attrs, &lang.AttrDef{Name: fm.Name, Pos: fm.Pos, Value: v})
		}
		return &lang.Let{Start: n.Start, End: n.End, Attrs: attrs, Body: inner}
	case *lang.With:
		if child != nil && child != n.Body {
			return inner
		}
		return &lang.With{Start: n.Start, End: n.End, Attrs: n.Attrs, Body: inner}
	}
	return inner
}

// inheritedValue reports whether child is the variable of an `inherit x;`
// of a, which is resolved outside a's scope.
func inheritedValue(a *lang.Attrs, child lang.Expr) bool {
	if child == nil {
		return false
	}
	for _, d := range a.Attrs {
		if d.Kind == lang.AttrInherited && d.Value == child {
			return true
		}
	}
	return false
}

// unknownArgument is builtins.throw "nixl: unknown function argument 'x'".
func unknownArgument(name string, pos lang.Pos) lang.Expr {
	var b strings.Builder
	b.WriteString(UnknownArgument)
	b.WriteString("'")
	b.WriteString(name)
	b.WriteString("'")
	fn := &lang.Select{Start: pos, End: pos, X: &lang.Var{Start: pos, End: pos, Name: "builtins"},
		Path: []lang.AttrName{{Pos: pos, Name: "throw"}}}
	return &lang.Call{Start: pos, End: pos, Fn: fn,
		Args: []lang.Expr{&lang.String{Start: pos, End: pos, Parts: []lang.StringPart{{Pos: pos, Text: b.String()}}}}}
}

// FocusDef returns an expression that evaluates the value d binds, in its
// scope (see Focus), or nil when d binds no expression (an argument).
func (f *File) FocusDef(d *Def) lang.Expr {
	if d.Value == nil {
		return nil
	}
	if d.Attr != nil && d.Attr.Kind == lang.AttrInheritedFrom {
		// inherit (e) a: the value is e.a, with e evaluated where it is
		// written.
		sel, x := inheritSource(d)
		if x == nil {
			return nil
		}
		start, _ := x.Span()
		return Focus(f.Expr, start, &lang.Select{Start: sel.Start, End: sel.End, X: x, Path: sel.Path})
	}
	return FocusOn(f.Expr, d.Value)
}
