package lang

// BindingKind says how a variable reference was resolved.
type BindingKind uint8

const (
	Unresolved BindingKind = iota
	// Static: defined in an enclosing scope, Up scopes up, at slot Index.
	Static
	// Dynamic: not lexically bound, so looked up at run time in the
	// attribute set of the innermost `with` (Up scopes up) and then in the
	// ones around it.
	Dynamic
	// Undefined: no binding and no enclosing `with` (an error).
	Undefined
)

// Binding is the resolution of a variable reference.
type Binding struct {
	Kind BindingKind
	// Global: found in the outermost scope (the global names); Index is
	// the index among them. (Next to Kind, so that the two share a word:
	// every variable and most operators hold a Binding.)
	Global bool
	Up     int
	Index  int
	// Def is where the variable is bound; NoPos for the base scope.
	Def Pos
	// With is the innermost enclosing with, for Dynamic bindings.
	With *With
}

// StaticEnv is a chain of scopes known at parse time. The outermost holds
// the global names (builtins and friends); scopedImport adds one more.
type StaticEnv struct {
	Up    *StaticEnv
	Names []string
	// Defs, if not nil, holds the definition position of each name.
	Defs  []Pos
	index map[string]int
	// The scopes Resolve makes take their names from the node that binds
	// them rather than from copies in Names and Defs: attrs are those of
	// a let or rec set, lam the argument and formals of a function.
	attrs    []*AttrDef
	lam      *Lambda
	with     bool
	withExpr *With
}

// NewStaticEnv returns a scope with the given names above up.
func NewStaticEnv(up *StaticEnv, names []string) *StaticEnv {
	return &StaticEnv{Up: up, Names: names}
}

// scopeIndexThreshold is the number of names from which a scope is
// searched through a map; smaller ones are searched linearly, which is
// faster than building the map.
const scopeIndexThreshold = 32

// find returns the index of name in the scope and where it is defined
// (NoPos if the scope does not know). The first of duplicate names wins.
func (s *StaticEnv) find(name string) (int, Pos, bool) {
	switch {
	case s.lam != nil:
		i := 0
		if s.lam.Arg != "" {
			if s.lam.Arg == name {
				return 0, s.lam.ArgPos, true
			}
			i = 1
		}
		for j := range s.lam.Formals {
			if f := &s.lam.Formals[j]; f.Name == name {
				return i + j, f.Pos, true
			}
		}
		return 0, NoPos, false
	case s.attrs != nil && len(s.attrs) < scopeIndexThreshold:
		for i, d := range s.attrs {
			if d.Name == name {
				return i, d.Pos, true
			}
		}
		return 0, NoPos, false
	case s.attrs == nil && len(s.Names) < scopeIndexThreshold:
		for i, n := range s.Names {
			if n == name {
				return i, s.def(i), true
			}
		}
		return 0, NoPos, false
	}
	if s.index == nil {
		s.buildIndex()
	}
	i, ok := s.index[name]
	if !ok {
		return 0, NoPos, false
	}
	if s.attrs != nil {
		return i, s.attrs[i].Pos, true
	}
	return i, s.def(i), true
}

func (s *StaticEnv) def(i int) Pos {
	if s.Defs == nil {
		return NoPos
	}
	return s.Defs[i]
}

func (s *StaticEnv) buildIndex() {
	if s.attrs != nil {
		s.index = make(map[string]int, len(s.attrs))
		for i, d := range s.attrs {
			if _, dup := s.index[d.Name]; !dup {
				s.index[d.Name] = i
			}
		}
		return
	}
	s.index = make(map[string]int, len(s.Names))
	for i, n := range s.Names {
		if _, dup := s.index[n]; !dup {
			s.index[n] = i
		}
	}
}

// Resolve binds every variable of e to its definition, the way Nix does
// before evaluation, and reports undefined variables. env is the scope e
// is evaluated in (at least the global names).
func Resolve(fset *FileSet, e Expr, env *StaticEnv, tolerant bool) ErrorList {
	r := &resolver{fset: fset, tolerant: tolerant}
	func() {
		defer func() {
			if x := recover(); x != nil {
				if _, ok := x.(bailout); !ok {
					panic(x)
				}
			}
		}()
		r.expr(e, env)
	}()
	return r.errs
}

type resolver struct {
	fset     *FileSet
	errs     ErrorList
	tolerant bool
	free     []*StaticEnv // scopes for newScope to reuse
}

func (r *resolver) errorAt(pos Pos, msg string) {
	f := r.fset.File(pos)
	var posn Position
	if f != nil {
		posn = f.Position(f.Offset(pos))
	}
	r.errs.Add(&Error{Pos: pos, Posn: posn, Msg: msg, File: f})
	if !r.tolerant {
		panic(bailout{})
	}
}

func (r *resolver) lookup(v *Var, env *StaticEnv) {
	v.Binding = r.bind(v.Name, v.Start, env)
}

// bind resolves name at pos in env.
func (r *resolver) bind(name string, pos Pos, env *StaticEnv) Binding {
	withLevel := -1
	var with *With
	level := 0
	for s := env; s != nil; s, level = s.Up, level+1 {
		if s.with {
			if withLevel < 0 {
				withLevel, with = level, s.withExpr
			}
			continue
		}
		if i, def, ok := s.find(name); ok {
			return Binding{Kind: Static, Up: level, Index: i, Global: s.Up == nil, Def: def}
		}
	}
	if withLevel < 0 {
		r.errorAt(pos, "undefined variable '"+name+"'")
		return Binding{Kind: Undefined}
	}
	return Binding{Kind: Dynamic, Up: withLevel, With: with}
}

func (r *resolver) attrPath(path []AttrName, env *StaticEnv) {
	for _, a := range path {
		if a.Expr != nil {
			r.expr(a.Expr, env)
		}
	}
}

func (r *resolver) parts(parts []StringPart, env *StaticEnv) {
	for _, p := range parts {
		if p.Expr != nil {
			r.expr(p.Expr, env)
		}
	}
}

// newScope returns an empty scope above up, recycled if possible: Resolve
// makes one for each function, let, rec set and with, and keeps none of
// them once their body is resolved (see release).
func (r *resolver) newScope(up *StaticEnv) *StaticEnv {
	if n := len(r.free); n > 0 {
		s := r.free[n-1]
		r.free = r.free[:n-1]
		s.Up = up
		return s
	}
	return &StaticEnv{Up: up}
}

// release makes s, no longer in use, available to newScope.
func (r *resolver) release(s *StaticEnv) {
	*s = StaticEnv{}
	r.free = append(r.free, s)
}

// attrScope is the scope of a let or rec set: its static names.
func (r *resolver) attrScope(a *Attrs, up *StaticEnv) *StaticEnv {
	s := r.newScope(up)
	s.attrs = a.Attrs
	return s
}

// bindings resolves the values of a set whose own scope is inner (the
// same as outer for a non-recursive set).
func (r *resolver) bindings(a *Attrs, inner, outer *StaticEnv) {
	for _, from := range a.InheritFrom {
		r.expr(from, inner)
	}
	for _, d := range a.Attrs {
		switch d.Kind {
		case AttrPlain:
			r.expr(d.Value, inner)
		case AttrInherited:
			r.expr(d.Value, outer)
		}
	}
	for _, d := range a.Dynamic {
		r.expr(d.Name, inner)
		r.expr(d.Value, inner)
	}
}

func (r *resolver) expr(e Expr, env *StaticEnv) {
	switch e := e.(type) {
	case *Var:
		r.lookup(e, env)
	case *String:
		r.parts(e.Parts, env)
	case *Path:
		r.parts(e.Parts, env)
	case *SearchPath:
		e.FindFile = r.bind("__findFile", e.Start, env)
		e.NixPath = r.bind("__nixPath", e.Start, env)
	case *Select:
		r.expr(e.X, env)
		r.attrPath(e.Path, env)
		if e.Default != nil {
			r.expr(e.Default, env)
		}
	case *HasAttr:
		r.expr(e.X, env)
		r.attrPath(e.Path, env)
	case *Attrs:
		if e.Rec {
			scope := r.attrScope(e, env)
			r.bindings(e, scope, env)
			r.release(scope)
		} else {
			r.bindings(e, env, env)
		}
	case *List:
		for _, x := range e.Elems {
			r.expr(x, env)
		}
	case *Lambda:
		// The scope's names are the argument, if any, then the formals.
		scope := r.newScope(env)
		scope.lam = e
		for _, f := range e.Formals {
			if f.Default != nil {
				r.expr(f.Default, scope)
			}
		}
		r.expr(e.Body, scope)
		r.release(scope)
	case *Call:
		r.expr(e.Fn, env)
		for _, a := range e.Args {
			r.expr(a, env)
		}
	case *Let:
		scope := r.attrScope(e.Attrs, env)
		r.bindings(e.Attrs, scope, env)
		r.expr(e.Body, scope)
		r.release(scope)
	case *With:
		e.PrevWith, e.ParentWith = 0, nil
		level := 1
		for s := env; s != nil; s, level = s.Up, level+1 {
			if s.with {
				e.PrevWith, e.ParentWith = level, s.withExpr
				break
			}
		}
		r.expr(e.Attrs, env)
		scope := r.newScope(env)
		scope.with, scope.withExpr = true, e
		r.expr(e.Body, scope)
		r.release(scope)
	case *If:
		r.expr(e.Cond, env)
		r.expr(e.Then, env)
		r.expr(e.Else, env)
	case *Assert:
		r.expr(e.Cond, env)
		r.expr(e.Body, env)
	case *UnaryOp:
		if e.Op == MINUS {
			e.Fn = r.bind("__sub", e.Start, env)
		}
		r.expr(e.X, env)
	case *BinaryOp:
		if fn := DesugaredFn(e.Op); fn != "" {
			e.Fn = r.bind(fn, e.OpPos, env)
		}
		r.expr(e.X, env)
		r.expr(e.Y, env)
	case *Int, *Float, *CurPos, *InheritFrom, *Bad, nil:
	default:
		panic("lang.Resolve: unknown node")
	}
}
