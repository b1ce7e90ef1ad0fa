package analysis

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nixl-project/nixl/lang"
)

// Severity is how serious a diagnostic is.
type Severity uint8

const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "unknown"
}

// MarshalJSON writes the severity as "error" or "warning".
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	switch str {
	case "error":
		*s = SeverityError
	case "warning":
		*s = SeverityWarning
	default:
		return fmt.Errorf("unknown severity %q", str)
	}
	return nil
}

// The diagnostic codes.
const (
	CodeSyntax          = "syntax-error"
	CodeDuplicateAttr   = "duplicate-attribute"
	CodeDuplicateFormal = "duplicate-formal"
	CodeUndefined       = "undefined-variable"
	CodeUnusedBinding   = "unused-binding"
	CodeUnusedFormal    = "unused-formal"
	CodeShadowedBuiltin = "shadowed-builtin"
	CodeUnknownBuiltin  = "unknown-builtin"
	CodeEval            = "eval-error"
)

// Position is a 1-based line and byte column.
type Position struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Range is a span of a file; End is exclusive.
type Range struct {
	Start Position `json:"start"`
	End   Position `json:"end"`
}

// Diagnostic is one finding (see the package documentation for the JSON
// form).
type Diagnostic struct {
	File     string   `json:"file"`
	Range    Range    `json:"range"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	// Start and End locate the range in the file set (End exclusive),
	// for callers that convert positions themselves (the LSP server).
	Start lang.Pos `json:"-"`
	End   lang.Pos `json:"-"`
}

// String is the compiler-style text form: file:line:col: severity:
// message [code].
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", d.File, d.Range.Start.Line, d.Range.Start.Col, d.Severity, d.Message, d.Code)
}

// Config says how to analyse a file.
type Config struct {
	// Globals are the names of the global scope (builtins.Names()).
	Globals []string
	// BaseDir resolves relative path literals; Home resolves ~/.
	BaseDir string
	Home    string
	// PipeOperators enables |> and <|.
	PipeOperators bool
}

// DefKind tells what kind of definition a Def is.
type DefKind uint8

const (
	DefLet    DefKind = iota // let x = …;
	DefRec                   // rec { x = …; } (a name in scope in the set)
	DefAttr                  // an attribute of a non-recursive set, or a nested one
	DefArg                   // x: … or …@x
	DefFormal                // { x, … }: …
)

func (k DefKind) String() string {
	return [...]string{"let binding", "recursive attribute", "attribute", "function argument", "formal argument"}[k]
}

// Def is a definition: a binding, an attribute, an argument.
type Def struct {
	Name string
	Kind DefKind
	// Pos is where the binding is, as in lang.Binding.Def: the start of
	// the attribute path, the formal or the argument.
	Pos lang.Pos
	// NameStart and NameEnd delimit the name itself (for a nested
	// attribute a.b.c, the c).
	NameStart, NameEnd lang.Pos
	// Value is the bound expression: nil for an argument, or a formal
	// without default (then Default is false).
	Value lang.Expr
	// Attr is the attribute definition, for let, rec and attributes.
	Attr *lang.AttrDef
	// Lambda is the function, for arguments and formals.
	Lambda *lang.Lambda
	// Scope is the node that introduces the definition: *lang.Let,
	// *lang.Attrs or *lang.Lambda.
	Scope lang.Expr
	// Depth is the nesting in an attribute path: b of a.b = 1 is at 1.
	Depth int
	// Used reports whether a variable refers to it (scope definitions).
	Used bool
}

// File is an analysed file.
type File struct {
	// Name is the file's name as given to Check.
	Name    string
	FileSet *lang.FileSet
	File    *lang.File
	// Expr is the (possibly partial) tree, resolved.
	Expr lang.Expr
	// Diagnostics are sorted by position.
	Diagnostics []Diagnostic
	// Defs lists every definition in source order of the walk.
	Defs []*Def
	// SyntaxErrors is true when the tree is partial (a syntax error, or a
	// duplicate attribute, whose value the parser drops); the unused
	// checks are skipped then.
	SyntaxErrors bool

	byPos   map[lang.Pos]*Def // scope definitions by lang.Binding.Def
	byAttr  map[*lang.AttrDef]*Def
	globals map[string]bool
	parent  map[lang.Expr]lang.Expr
}

// Check parses src (registering it in fset under name), resolves it and
// analyses it.
func Check(fset *lang.FileSet, name, src string, cfg Config) *File {
	x, file, err := lang.Parse(fset, name, src, lang.Config{BaseDir: cfg.BaseDir, Home: cfg.Home, Tolerant: true, PipeOperators: cfg.PipeOperators})
	f := &File{
		Name: name, FileSet: fset, File: file, Expr: x,
		byPos:   map[lang.Pos]*Def{},
		byAttr:  map[*lang.AttrDef]*Def{},
		globals: map[string]bool{},
		parent:  map[lang.Expr]lang.Expr{},
	}
	for _, g := range cfg.Globals {
		f.globals[g] = true
	}
	if errs, ok := err.(lang.ErrorList); ok {
		for _, e := range errs {
			code := CodeSyntax
			switch {
			case strings.Contains(e.Msg, "' already defined at "):
				code = CodeDuplicateAttr
				f.SyntaxErrors = true // the duplicate's value is dropped
			case strings.HasPrefix(e.Msg, "duplicate formal function argument"):
				code = CodeDuplicateFormal
			default:
				f.SyntaxErrors = true
			}
			start, end := f.tokenAt(e.Pos)
			f.add(start, end, SeverityError, code, e.Msg)
		}
	} else if err != nil {
		f.SyntaxErrors = true
		f.add(file.Pos(0), file.Pos(0), SeverityError, CodeSyntax, err.Error())
	}
	if x == nil {
		return f
	}
	globalNames := append([]string(nil), cfg.Globals...)
	undefined := map[lang.Pos]lang.Pos{}
	lang.Inspect(x, func(e lang.Expr) bool {
		if v, ok := e.(*lang.Var); ok {
			undefined[v.Start] = v.End
		}
		return true
	})
	for _, e := range lang.Resolve(fset, x, lang.NewStaticEnv(nil, globalNames), true) {
		end := undefined[e.Pos]
		if end <= e.Pos {
			_, end = f.tokenAt(e.Pos)
		}
		f.add(e.Pos, end, SeverityError, CodeUndefined, e.Msg)
	}
	f.collect()
	f.lint()
	sort.SliceStable(f.Diagnostics, func(i, j int) bool {
		a, b := f.Diagnostics[i], f.Diagnostics[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.End < b.End
	})
	return f
}

// add records a diagnostic for [start, end).
func (f *File) add(start, end lang.Pos, sev Severity, code, msg string) {
	f.Diagnostics = append(f.Diagnostics, Diagnostic{
		File: f.Name, Range: Range{Start: f.position(start), End: f.position(end)},
		Severity: sev, Code: code, Message: msg, Start: start, End: end,
	})
}

func (f *File) position(p lang.Pos) Position {
	posn := f.FileSet.Position(p)
	return Position{Line: posn.Line, Col: posn.Col}
}

// NewDiagnostic makes a diagnostic at pos (an evaluation error's
// position), for callers that add their own findings; an invalid
// position gives line 0.
func NewDiagnostic(fset *lang.FileSet, name string, pos lang.Pos, sev Severity, code, msg string) Diagnostic {
	start, end := pos, pos
	if f := fset.File(pos); f != nil {
		tf := &File{FileSet: fset, File: f}
		start, end = tf.tokenAt(pos)
		if name == "" {
			name = f.Name()
		}
	}
	posn, endPosn := fset.Position(start), fset.Position(end)
	return Diagnostic{
		File:     name,
		Range:    Range{Start: Position{posn.Line, posn.Col}, End: Position{endPosn.Line, endPosn.Col}},
		Severity: sev, Code: code, Message: msg, Start: start, End: end,
	}
}

// tokenAt returns the span of the token at pos, at least one byte unless
// pos is at the end of the file.
func (f *File) tokenAt(pos lang.Pos) (lang.Pos, lang.Pos) {
	if f.File == nil || !pos.IsValid() {
		return pos, pos
	}
	src := f.File.Source()
	off := f.File.Offset(pos)
	if off < 0 || off >= len(src) {
		return pos, pos
	}
	t := lang.NewLexer(src[off:]).Next()
	n := t.End
	if t.Kind == lang.EOF || t.Start != 0 || n <= 0 {
		n = 1
	}
	// Stay on the line.
	if i := strings.IndexAny(src[off:off+n], "\r\n"); i >= 0 {
		n = max(i, 1)
	}
	return pos, pos + lang.Pos(n)
}

// nameSpan finds the depth-th element of the attribute path (or the name
// of an inherit, formal or argument) starting at pos.
func (f *File) nameSpan(pos lang.Pos, depth int) (lang.Pos, lang.Pos) {
	if f.File == nil || !pos.IsValid() {
		return pos, pos
	}
	src := f.File.Source()
	off := f.File.Offset(pos)
	if off < 0 || off >= len(src) {
		return pos, pos
	}
	lx := lang.NewLexer(src[off:])
	t := lx.Next()
	for i := 0; ; i++ {
		start, end, ok := pathElement(lx, t)
		if !ok {
			return pos, pos
		}
		if i == depth {
			return pos + lang.Pos(start), pos + lang.Pos(end)
		}
		if lx.Next().Kind != lang.DOT {
			return pos, pos
		}
		t = lx.Next()
	}
}

// pathElement consumes one attribute path element that starts with t:
// an identifier, a string or ${…}.
func pathElement(lx *lang.Lexer, t lang.Token) (start, end int, ok bool) {
	switch t.Kind {
	case lang.ID, lang.OR_KW:
		return t.Start, t.End, true
	case lang.QUOTE, lang.DOLLAR_CURLY:
		start = t.Start
		depth := 0
		if t.Kind == lang.DOLLAR_CURLY {
			depth = 1
		}
		inString := t.Kind == lang.QUOTE
		for n := 0; n < 10000; n++ {
			u := lx.Next()
			switch u.Kind {
			case lang.EOF, lang.ILLEGAL:
				return 0, 0, false
			case lang.DOLLAR_CURLY, lang.LBRACE:
				depth++
			case lang.RBRACE:
				depth--
				if depth == 0 && !inString {
					return start, u.End, true
				}
			case lang.QUOTE:
				if depth == 0 && inString {
					return start, u.End, true
				}
			}
		}
	}
	return 0, 0, false
}

// collect walks the tree for definitions and uses.
func (f *File) collect() {
	depth := map[*lang.Attrs]int{}
	scopeAttrs := map[*lang.Attrs]lang.Expr{} // a let's bindings
	addAttrs := func(a *lang.Attrs, kind DefKind, scope lang.Expr) {
		d0 := depth[a]
		for _, ad := range a.Attrs {
			k := kind
			if d0 > 0 {
				k = DefAttr
			}
			def := &Def{Name: ad.Name, Kind: k, Pos: ad.Pos, Value: ad.Value, Attr: ad, Scope: scope, Depth: d0}
			def.NameStart, def.NameEnd = f.nameSpan(ad.Pos, d0)
			f.Defs = append(f.Defs, def)
			f.byAttr[ad] = def
			if k != DefAttr {
				f.byPos[ad.Pos] = def
			}
			if sub, ok := ad.Value.(*lang.Attrs); ok && sub.Implicit {
				depth[sub] = d0 + 1
			}
		}
	}
	type useAt struct {
		b   lang.Binding
		pos lang.Pos
	}
	var uses []useAt
	visit := func(e lang.Expr) {
		switch e := e.(type) {
		case *lang.Let:
			scopeAttrs[e.Attrs] = e
			addAttrs(e.Attrs, DefLet, e)
		case *lang.Attrs:
			if _, ok := scopeAttrs[e]; ok {
				break
			}
			if e.Rec {
				addAttrs(e, DefRec, e)
			} else {
				addAttrs(e, DefAttr, e)
			}
		case *lang.Lambda:
			if e.Arg != "" {
				def := &Def{Name: e.Arg, Kind: DefArg, Pos: e.ArgPos, Lambda: e, Scope: e}
				def.NameStart, def.NameEnd = f.nameSpan(e.ArgPos, 0)
				f.Defs = append(f.Defs, def)
				f.byPos[e.ArgPos] = def
			}
			for _, fm := range e.Formals {
				def := &Def{Name: fm.Name, Kind: DefFormal, Pos: fm.Pos, Value: fm.Default, Lambda: e, Scope: e}
				def.NameStart, def.NameEnd = f.nameSpan(fm.Pos, 0)
				f.Defs = append(f.Defs, def)
				f.byPos[fm.Pos] = def
			}
		case *lang.Var:
			uses = append(uses, useAt{e.Binding, e.Start})
		case *lang.SearchPath:
			uses = append(uses, useAt{e.FindFile, e.Start}, useAt{e.NixPath, e.Start})
		case *lang.UnaryOp:
			uses = append(uses, useAt{e.Fn, e.Start})
		case *lang.BinaryOp:
			uses = append(uses, useAt{e.Fn, e.OpPos})
		}
	}
	var walk func(e, parent lang.Expr)
	walk = func(e, parent lang.Expr) {
		if parent != nil {
			f.parent[e] = parent
		}
		visit(e)
		for _, c := range Children(e) {
			walk(c, e)
		}
	}
	walk(f.Expr, nil)
	for _, u := range uses {
		if u.b.Kind != lang.Static || u.b.Global {
			continue
		}
		d := f.byPos[u.b.Def]
		if d == nil {
			continue
		}
		// A binding used only in its own value (a recursive function
		// nothing calls) is unused.
		if (d.Kind == DefLet || d.Kind == DefRec) && d.Value != nil {
			if s, e := d.Value.Span(); s <= u.pos && u.pos < e {
				continue
			}
		}
		d.Used = true
	}
}

// Children returns the direct children of e, in source order.
func Children(e lang.Expr) []lang.Expr {
	var out []lang.Expr
	first := true
	lang.Inspect(e, func(c lang.Expr) bool {
		if first {
			first = false
			return true
		}
		if c != nil {
			out = append(out, c)
		}
		return false
	})
	return out
}

// lint reports unused definitions and shadowed builtins.
func (f *File) lint() {
	f.lintBuiltinSelects()
	for _, d := range f.Defs {
		switch d.Kind {
		case DefLet, DefRec, DefArg, DefFormal:
			if d.Depth == 0 && f.globals[d.Name] && !strings.HasPrefix(d.Name, "__") && !f.rebindsBuiltin(d) {
				f.add(d.NameStart, d.NameEnd, SeverityWarning, CodeShadowedBuiltin,
					fmt.Sprintf("%s '%s' shadows the builtin '%s'", d.Kind, d.Name, d.Name))
			}
		}
		if f.SyntaxErrors || d.Used || strings.HasPrefix(d.Name, "_") {
			continue
		}
		switch d.Kind {
		case DefLet:
			f.add(d.NameStart, d.NameEnd, SeverityWarning, CodeUnusedBinding, fmt.Sprintf("unused let binding '%s'", d.Name))
		case DefFormal:
			if duplicateFormal(d) {
				continue
			}
			f.add(d.NameStart, d.NameEnd, SeverityWarning, CodeUnusedFormal, fmt.Sprintf("unused formal argument '%s'", d.Name))
		}
	}
}

// lintBuiltinSelects warns about builtins.NAME where the builtins set has
// no NAME (a typo, or a builtin of another Nix version): evaluation fails
// there when it is reached. A select with `or`, and one guarded by
// `builtins ? NAME` somewhere in the file, are left alone.
func (f *File) lintBuiltinSelects() {
	if !f.globals["builtins"] {
		return
	}
	var names []string
	known := map[string]bool{}
	for g := range f.globals {
		n := strings.TrimPrefix(g, "__")
		known[n] = true
		names = append(names, n)
	}
	guarded := map[string]bool{}
	var selects []*lang.Select
	lang.Inspect(f.Expr, func(e lang.Expr) bool {
		switch e := e.(type) {
		case *lang.HasAttr:
			if isGlobalBuiltins(e.X) && len(e.Path) > 0 && e.Path[0].Expr == nil {
				guarded[e.Path[0].Name] = true
			}
		case *lang.Select:
			if isGlobalBuiltins(e.X) && e.Default == nil && len(e.Path) > 0 && e.Path[0].Expr == nil && !known[e.Path[0].Name] {
				selects = append(selects, e)
			}
		}
		return true
	})
	for _, sel := range selects {
		name := sel.Path[0].Name
		if guarded[name] {
			continue
		}
		msg := fmt.Sprintf("builtins has no attribute '%s'", name)
		if hint := lang.Suggest(names, name); hint != "" {
			msg += "; " + strings.ToLower(hint[:1]) + hint[1:]
		}
		start, end := f.tokenAt(sel.Path[0].Pos)
		f.add(start, end, SeverityWarning, CodeUnknownBuiltin, msg)
	}
}

// duplicateFormal reports whether d repeats an earlier formal's name
// (an error of its own).
func duplicateFormal(d *Def) bool {
	for _, fm := range d.Lambda.Formals {
		if fm.Pos == d.Pos {
			return false
		}
		if fm.Name == d.Name {
			return true
		}
	}
	return false
}

// rebindsBuiltin reports whether d is `inherit map;` or `inherit
// (builtins) map;`, which bind the builtin itself.
func (f *File) rebindsBuiltin(d *Def) bool {
	if d.Attr == nil {
		return false
	}
	switch d.Attr.Kind {
	case lang.AttrInherited:
		return true
	case lang.AttrInheritedFrom:
		_, from := inheritSource(d)
		return isGlobalBuiltins(from)
	}
	return false
}

// isGlobalBuiltins reports whether x is the variable builtins, not
// rebound.
func isGlobalBuiltins(x lang.Expr) bool {
	v, ok := x.(*lang.Var)
	return ok && v.Name == "builtins" && v.Binding.Kind == lang.Static && v.Binding.Global
}

// inheritSource returns, for d bound by inherit (e) a, the selection e.a
// that is its value and the expression e; nils otherwise.
func inheritSource(d *Def) (*lang.Select, lang.Expr) {
	if d.Attr == nil || d.Attr.Kind != lang.AttrInheritedFrom {
		return nil, nil
	}
	sel, ok := d.Attr.Value.(*lang.Select)
	if !ok {
		return nil, nil
	}
	from, ok := sel.X.(*lang.InheritFrom)
	if !ok {
		return nil, nil
	}
	var attrs *lang.Attrs
	switch s := d.Scope.(type) {
	case *lang.Let:
		attrs = s.Attrs
	case *lang.Attrs:
		attrs = s
	}
	if attrs == nil || from.Index >= len(attrs.InheritFrom) {
		return nil, nil
	}
	return sel, attrs.InheritFrom[from.Index]
}

// Errors counts the diagnostics of error severity.
func (f *File) Errors() int {
	n := 0
	for _, d := range f.Diagnostics {
		if d.Severity == SeverityError {
			n++
		}
	}
	return n
}
