package lang

// Inspect walks the tree rooted at x in source order, calling f for each
// node; when f returns false the node's children are skipped.
func Inspect(x Expr, f func(Expr) bool) {
	if x == nil || !f(x) {
		return
	}
	parts := func(ps []StringPart) {
		for _, p := range ps {
			if p.Expr != nil {
				Inspect(p.Expr, f)
			}
		}
	}
	path := func(as []AttrName) {
		for _, a := range as {
			if a.Expr != nil {
				Inspect(a.Expr, f)
			}
		}
	}
	switch x := x.(type) {
	case *String:
		parts(x.Parts)
	case *Path:
		parts(x.Parts)
	case *Select:
		Inspect(x.X, f)
		path(x.Path)
		if x.Default != nil {
			Inspect(x.Default, f)
		}
	case *HasAttr:
		Inspect(x.X, f)
		path(x.Path)
	case *Attrs:
		for _, e := range x.InheritFrom {
			Inspect(e, f)
		}
		for _, d := range x.Attrs {
			if d.Kind != AttrInheritedFrom {
				Inspect(d.Value, f)
			}
		}
		for _, d := range x.Dynamic {
			Inspect(d.Name, f)
			Inspect(d.Value, f)
		}
	case *List:
		for _, e := range x.Elems {
			Inspect(e, f)
		}
	case *Lambda:
		for _, fm := range x.Formals {
			if fm.Default != nil {
				Inspect(fm.Default, f)
			}
		}
		Inspect(x.Body, f)
	case *Call:
		Inspect(x.Fn, f)
		for _, a := range x.Args {
			Inspect(a, f)
		}
	case *Let:
		Inspect(x.Attrs, f)
		Inspect(x.Body, f)
	case *With:
		Inspect(x.Attrs, f)
		Inspect(x.Body, f)
	case *If:
		Inspect(x.Cond, f)
		Inspect(x.Then, f)
		Inspect(x.Else, f)
	case *Assert:
		Inspect(x.Cond, f)
		Inspect(x.Body, f)
	case *UnaryOp:
		Inspect(x.X, f)
	case *BinaryOp:
		Inspect(x.X, f)
		Inspect(x.Y, f)
	}
}
