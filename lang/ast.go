package lang

// Expr is an expression node. Every node knows where it starts and ends;
// NodePos is the position Nix itself attaches to the node (for a binary
// operator that is the operator, for a call the function), which is what
// error messages point at.
type Expr interface {
	Span() (start, end Pos)
	exprNode()
}

// Int is an integer literal.
type Int struct {
	Start, End Pos
	Value      int64
}

// Float is a floating-point literal.
type Float struct {
	Start, End Pos
	Value      float64
}

// String is a string literal, possibly with interpolations. A string with
// a single literal part is a plain string; any other shape is a
// concatenation that coerces its parts to strings (Nix's
// ExprConcatStrings with forceString).
type String struct {
	Start, End Pos
	Parts      []StringPart
	Indented   bool // written as an indented string
	URI        bool // written as an unquoted URI literal
	// one holds the part of a one-part string, so that the commonest
	// strings take one allocation.
	one [1]StringPart
}

// StringPart is either literal text (Expr == nil) or an interpolation.
type StringPart struct {
	Pos  Pos
	Text string
	Expr Expr
}

// IsLiteral reports whether the string has no interpolation.
func (s *String) IsLiteral() bool {
	return len(s.Parts) == 0 || len(s.Parts) == 1 && s.Parts[0].Expr == nil
}

// Literal is the text of a string without interpolation.
func (s *String) Literal() string {
	if len(s.Parts) == 0 {
		return ""
	}
	return s.Parts[0].Text
}

// PathKind tells how a path literal was written.
type PathKind uint8

const (
	PathRelative PathKind = iota // ./a, a/b
	PathAbsolute                 // /a
	PathHome                     // ~/a
)

// Path is a path literal. Value is the absolute path of the first piece
// (relative paths are resolved against the directory of the file, ~ against
// $HOME, as Nix does at parse time). Parts are the interpolated rest.
type Path struct {
	Start, End Pos
	Kind       PathKind
	Raw        string // the first piece as written
	Value      string
	Parts      []StringPart
}

// SearchPath is <a/b>, a lookup in the search path. It means
// __findFile __nixPath "a/b", so Resolve binds those two names.
type SearchPath struct {
	Start, End Pos
	Path       string // a/b
	FindFile   Binding
	NixPath    Binding
}

// Var is a variable reference. The resolver fills in Binding.
type Var struct {
	Start, End Pos
	Name       string
	Binding    Binding
}

// CurPos is __curPos, which evaluates to its own position.
type CurPos struct {
	Start, End Pos
}

// AttrName is one element of an attribute path: a static name, or a
// dynamic one (Expr != nil, from "${e}" or an interpolated string).
type AttrName struct {
	Pos  Pos
	Name string
	Expr Expr
}

// Select is e.a.b or e.a.b or default.
type Select struct {
	Start, End Pos
	X          Expr
	Path       []AttrName
	Default    Expr // nil without `or`
}

// HasAttr is e ? a.b.
type HasAttr struct {
	Start, End Pos
	OpPos      Pos
	X          Expr
	Path       []AttrName
}

// AttrKind tells how an attribute was defined.
type AttrKind uint8

const (
	AttrPlain         AttrKind = iota // a = e;
	AttrInherited                     // inherit a;
	AttrInheritedFrom                 // inherit (e) a;
)

// AttrDef is a static attribute of an attribute set. For AttrInherited the
// value is a *Var resolved in the enclosing scope; for AttrInheritedFrom it
// is a *Select of an *InheritFrom.
type AttrDef struct {
	Name  string
	Pos   Pos
	Kind  AttrKind
	Value Expr
}

// DynamicAttrDef is "${name}" = value;.
type DynamicAttrDef struct {
	Pos   Pos
	Name  Expr
	Value Expr
}

// InheritFrom stands for the expression e of `inherit (e) a b;`, evaluated
// once per attribute set and shared by the attributes it provides.
type InheritFrom struct {
	Start, End Pos
	Index      int // index into the enclosing Attrs.InheritFrom
}

// Attrs is an attribute set { … } or rec { … }, with nested attribute paths
// already merged (a.b = 1; a.c = 2; gives a = { b = 1; c = 2; }).
type Attrs struct {
	Start, End  Pos
	Attrs       []*AttrDef // in order of first definition
	Dynamic     []*DynamicAttrDef
	InheritFrom []Expr
	Rec         bool
	// Implicit marks a set created by an attribute path (the a of a.b = 1).
	Implicit bool
}

// Lookup finds a static attribute by name.
func (a *Attrs) Lookup(name string) *AttrDef {
	for _, d := range a.Attrs {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// List is [ e … ].
type List struct {
	Start, End Pos
	Elems      []Expr
}

// Formal is one parameter of a function taking an attribute set.
type Formal struct {
	Pos     Pos
	Name    string
	Default Expr
}

// Lambda is a function: x: e, { a, b ? d, … }: e, with optional @-binding.
type Lambda struct {
	Start, End Pos
	Arg        string // "" when there is no plain or @ argument
	ArgPos     Pos
	HasFormals bool
	Ellipsis   bool
	Formals    []Formal // in source order
	Body       Expr
	// Name is the attribute or let name the function is bound to, if any;
	// Nix uses it in traces ("while calling 'f'").
	Name string
}

// Call is function application, f a b (one node for all arguments, as Nix
// groups them).
type Call struct {
	Start, End Pos
	Fn         Expr
	Args       []Expr
}

// Let is let … in e.
type Let struct {
	Start, End Pos
	Attrs      *Attrs
	Body       Expr
}

// With is with e; body.
type With struct {
	Start, End Pos
	Attrs      Expr
	Body       Expr
	// PrevWith, filled in by Resolve, is the number of scopes from this
	// with's scope up to the next enclosing with's scope (0: none), and
	// ParentWith that with.
	PrevWith   int
	ParentWith *With
}

// If is if c then a else b.
type If struct {
	Start, End Pos
	Cond       Expr
	Then       Expr
	Else       Expr
}

// Assert is assert c; body.
type Assert struct {
	Start, End Pos
	Cond       Expr
	Body       Expr
}

// UnaryOp is ! or unary -. Unary minus means __sub 0 x, so Resolve binds
// Fn to __sub.
type UnaryOp struct {
	Start, End Pos
	Op         TokenKind // NOT or MINUS
	X          Expr
	Fn         Binding
}

// BinaryOp is any binary operator other than ?. Op is the operator token.
// Arithmetic and comparison operators mean calls of __sub, __mul, __div
// and __lessThan; Resolve binds Fn to that name in scope, so that a user
// who redefines __sub changes what - means, as in Nix.
type BinaryOp struct {
	Start, End Pos
	OpPos      Pos
	Op         TokenKind
	X, Y       Expr
	Fn         Binding
	// YStart is where the right operand's text starts (an opening
	// parenthesis included); Start is that of the left operand. Nix
	// reports + operands there.
	YStart Pos
}

// DesugaredFn names the function a binary operator calls, or "".
func DesugaredFn(op TokenKind) string {
	switch op {
	case MINUS:
		return "__sub"
	case STAR:
		return "__mul"
	case SLASH:
		return "__div"
	case LT, GT, LEQ, GEQ:
		return "__lessThan"
	}
	return ""
}

func (e *Int) Span() (Pos, Pos)         { return e.Start, e.End }
func (e *Float) Span() (Pos, Pos)       { return e.Start, e.End }
func (e *String) Span() (Pos, Pos)      { return e.Start, e.End }
func (e *Path) Span() (Pos, Pos)        { return e.Start, e.End }
func (e *SearchPath) Span() (Pos, Pos)  { return e.Start, e.End }
func (e *Var) Span() (Pos, Pos)         { return e.Start, e.End }
func (e *CurPos) Span() (Pos, Pos)      { return e.Start, e.End }
func (e *Select) Span() (Pos, Pos)      { return e.Start, e.End }
func (e *HasAttr) Span() (Pos, Pos)     { return e.Start, e.End }
func (e *Attrs) Span() (Pos, Pos)       { return e.Start, e.End }
func (e *InheritFrom) Span() (Pos, Pos) { return e.Start, e.End }
func (e *List) Span() (Pos, Pos)        { return e.Start, e.End }
func (e *Lambda) Span() (Pos, Pos)      { return e.Start, e.End }
func (e *Call) Span() (Pos, Pos)        { return e.Start, e.End }
func (e *Let) Span() (Pos, Pos)         { return e.Start, e.End }
func (e *With) Span() (Pos, Pos)        { return e.Start, e.End }
func (e *If) Span() (Pos, Pos)          { return e.Start, e.End }
func (e *Assert) Span() (Pos, Pos)      { return e.Start, e.End }
func (e *UnaryOp) Span() (Pos, Pos)     { return e.Start, e.End }
func (e *BinaryOp) Span() (Pos, Pos)    { return e.Start, e.End }

func (*Int) exprNode()         {}
func (*Float) exprNode()       {}
func (*String) exprNode()      {}
func (*Path) exprNode()        {}
func (*SearchPath) exprNode()  {}
func (*Var) exprNode()         {}
func (*CurPos) exprNode()      {}
func (*Select) exprNode()      {}
func (*HasAttr) exprNode()     {}
func (*Attrs) exprNode()       {}
func (*InheritFrom) exprNode() {}
func (*List) exprNode()        {}
func (*Lambda) exprNode()      {}
func (*Call) exprNode()        {}
func (*Let) exprNode()         {}
func (*With) exprNode()        {}
func (*If) exprNode()          {}
func (*Assert) exprNode()      {}
func (*UnaryOp) exprNode()     {}
func (*BinaryOp) exprNode()    {}

// NodePos is the position Nix associates with e in error messages.
func NodePos(e Expr) Pos {
	switch e := e.(type) {
	case *BinaryOp:
		return e.OpPos
	case *HasAttr:
		return e.OpPos
	}
	start, _ := e.Span()
	return start
}

// Bad stands for a piece of source that did not parse (tolerant mode only).
type Bad struct {
	Start, End Pos
}

func (e *Bad) Span() (Pos, Pos) { return e.Start, e.End }
func (*Bad) exprNode()          {}
