package lsp

import (
	"errors"
	"regexp"
	"sort"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/lang/analysis"
)

// valuePrint bounds the values hover shows; they are printed lazily.
var valuePrint = eval.PrintOptions{
	Derivations: true, MaxDepth: 2, MaxAttrs: 20, MaxListItems: 20, MaxStringLength: 200, TrackRepeated: true,
}

// maxHoverValue bounds the printed value's length.
const maxHoverValue = 1500

// builtinDoc returns the documentation of the builtin a global name
// stands for.
func (s *server) builtinDoc(name string) (builtins.Doc, bool) {
	d, ok := s.docIndex[strings.TrimPrefix(name, "__")]
	return d, ok
}

func docMarkdown(d builtins.Doc) string {
	var b strings.Builder
	b.WriteString("```nix\nbuiltins." + d.Name)
	for _, p := range d.Params {
		b.WriteString(" " + p)
	}
	b.WriteString("\n```\n\n")
	b.WriteString(strings.TrimSpace(d.Doc))
	return b.String()
}

func markdown(s string) *protocol.Hover {
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: s}}
}

// hover describes what is under the cursor: a builtin's documentation,
// or a binding with its value's type and a truncated value.
func (s *server) hover(d *document, p protocol.Position) *protocol.Hover {
	f := d.file
	pos := d.pos(p)
	if v := f.VarAt(pos); v != nil && v.Binding.Kind == lang.Static && v.Binding.Global {
		if doc, ok := s.builtinDoc(v.Name); ok {
			return markdown(docMarkdown(doc))
		}
		return markdown("```nix\n" + v.Name + "\n```\n\nbuilt-in constant")
	}
	if base, path, ok := f.AttrAt(pos); ok && len(path) == 1 {
		if v, isVar := base.(*lang.Var); isVar && v.Name == "builtins" && v.Binding.Global {
			if doc, ok := s.builtinDoc(path[0].Name); ok {
				return markdown(docMarkdown(doc))
			}
		}
	}
	if text, ok := s.libraryHover(f, pos); ok {
		return markdown(text)
	}
	var def *analysis.Def
	if v := f.VarAt(pos); v != nil {
		def = f.DefOf(v)
	} else if t, ok := f.Definition(pos); ok && t.Def != nil {
		def = t.Def
	}
	if def != nil {
		var b strings.Builder
		b.WriteString("```nix\n" + def.Name + "\n```\n\n" + def.Kind.String())
		if def.Value == nil {
			if def.Kind == analysis.DefArg || def.Kind == analysis.DefFormal {
				b.WriteString(" (its value is only known when the function is called)")
			}
			return markdown(b.String())
		}
		b.WriteString(s.describeValue(d, func(f2 *analysis.File) lang.Expr {
			d2 := f2.DefAt(f2.File.Pos(d.file.File.Offset(def.NameStart)))
			if d2 == nil || d2.Name != def.Name {
				return nil
			}
			return f2.FocusDef(d2)
		}))
		return markdown(b.String())
	}
	// Something else with a value: a variable from a with, a selection.
	var expr func(f2 *analysis.File) lang.Expr
	if v := f.VarAt(pos); v != nil && v.Binding.Kind == lang.Dynamic {
		start := d.file.File.Offset(v.Start)
		expr = func(f2 *analysis.File) lang.Expr {
			p2 := f2.File.Pos(start)
			return analysis.Focus(f2.Expr, p2, &lang.Var{Start: p2, End: p2 + lang.Pos(len(v.Name)), Name: v.Name})
		}
	} else if base, path, ok := f.AttrAt(pos); ok {
		bs, _ := base.Span()
		start, n := d.file.File.Offset(bs), len(path)
		expr = func(f2 *analysis.File) lang.Expr {
			p2 := f2.File.Pos(start)
			base2, path2, ok := f2.AttrAt(f2.File.Pos(d.offset(p)))
			if !ok || len(path2) != n {
				return nil
			}
			sel := &lang.Select{Start: p2, End: p2, X: base2, Path: path2}
			return analysis.Focus(f2.Expr, p2, sel)
		}
	}
	if expr == nil {
		return nil
	}
	desc := s.describeValue(d, expr)
	if desc == "" {
		return nil
	}
	return markdown(strings.TrimLeft(desc, "\n"))
}

// libraryHover documents a selection like nixl.lib.strings.toUpper (up to
// the name under the cursor) that names a function of the library.
func (s *server) libraryHover(f *analysis.File, pos lang.Pos) (string, bool) {
	if s.opts.LibraryDoc == nil {
		return "", false
	}
	base, path, ok := f.AttrAt(pos)
	v, isVar := base.(*lang.Var)
	if !ok || !isVar {
		return "", false
	}
	names := []string{v.Name}
	for _, a := range path {
		if a.Expr != nil {
			return "", false
		}
		names = append(names, a.Name)
	}
	return s.opts.LibraryDoc(strings.Join(names, "."))
}

// describeValue evaluates the expression expr builds (from the document
// analysed again in the evaluator's file set) within the budgets, and
// describes the value: its type and a truncated, lazy print.
func (s *server) describeValue(d *document, expr func(f2 *analysis.File) lang.Expr) string {
	var typ, text string
	err := s.bounded(func(e *eval.Eval) error {
		cfg := s.config()
		cfg.BaseDir, cfg.Home = d.dir, e.Home
		f2 := analysis.Check(e.FileSet(), d.path, d.text, cfg)
		x := expr(f2)
		if x == nil {
			return errNoValue
		}
		lang.Resolve(e.FileSet(), x, e.BaseEnv(), true)
		v, err := e.EvalExpr(x)
		if err != nil {
			return err
		}
		typ = v.ShowType()
		text, err = e.PrintValue(v, valuePrint)
		return err
	})
	switch {
	case errors.Is(err, errNoValue):
		return ""
	case err != nil:
		var ee *eval.Error
		msg := err.Error()
		if errors.As(err, &ee) {
			if ee.Kind == eval.ErrInterrupted {
				msg = ErrTimeBudget.Error()
			} else if strings.HasPrefix(ee.Msg, analysis.UnknownArgument) {
				return "\n\nvalue unknown: it depends on the function argument " + strings.TrimPrefix(ee.Msg, analysis.UnknownArgument)
			}
		}
		return "\n\nnot evaluated: " + firstLine(msg)
	}
	if len(text) > maxHoverValue {
		text = text[:maxHoverValue] + " …"
	}
	return "\n\n" + typ + "\n```nix\n" + text + "\n```"
}

var errNoValue = errors.New("no value")

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var attrPathBefore = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*)\.([A-Za-z0-9_'-]*)$`)
var identBefore = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_'-]*$`)

var keywords = []string{"assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with"}

// complete lists the completions at p: attributes after `expr.`, else the
// names in scope, the builtins and the keywords.
func (s *server) complete(d *document, p protocol.Position) []protocol.CompletionItem {
	off := d.offset(p)
	prefix := d.linePrefix(off)
	pos := d.file.File.Pos(off)
	items := []protocol.CompletionItem{}
	seen := map[string]bool{}
	add := func(label string, kind protocol.CompletionItemKind, detail string) {
		if seen[label] {
			return
		}
		seen[label] = true
		items = append(items, protocol.CompletionItem{Label: label, Kind: kind, Detail: detail})
	}
	if m := attrPathBefore.FindStringSubmatch(prefix); m != nil {
		base := m[1]
		// Statically: a set literal bound in scope.
		names := strings.Split(base, ".")
		for _, def := range d.file.ScopeAt(pos).Defs {
			if def.Name != names[0] || def.Value == nil {
				continue
			}
			a := d.file.StaticAttrs(def.Value)
			for _, n := range names[1:] {
				if a == nil {
					break
				}
				ad := a.Lookup(n)
				if ad == nil {
					a = nil
					break
				}
				a = d.file.StaticAttrs(ad.Value)
			}
			if a != nil {
				for _, ad := range a.Attrs {
					add(ad.Name, protocol.CompletionItemKindField, "")
				}
			}
			break
		}
		// By evaluation.
		for _, n := range s.attrNames(d, off-len(m[0]), base) {
			kind := protocol.CompletionItemKindField
			detail := ""
			if base == "builtins" {
				kind = protocol.CompletionItemKindFunction
				if doc, ok := s.builtinDoc(n); ok {
					detail = strings.TrimSpace("builtins." + n + " " + strings.Join(doc.Params, " "))
				}
			}
			add(n, kind, detail)
		}
		return items
	}
	word := identBefore.FindString(prefix)
	scope := d.file.ScopeAt(pos)
	for _, def := range scope.Defs {
		kind := protocol.CompletionItemKindVariable
		if _, ok := def.Value.(*lang.Lambda); ok {
			kind = protocol.CompletionItemKindFunction
		}
		add(def.Name, kind, def.Kind.String())
	}
	for _, w := range scope.Withs {
		for _, n := range s.withNames(d, d.file.File.Offset(w.Start)) {
			add(n, protocol.CompletionItemKindField, "from with")
		}
	}
	var globals []string
	for _, g := range s.opts.Globals {
		if !strings.HasPrefix(g, "__") || strings.HasPrefix(word, "__") {
			globals = append(globals, g)
		}
	}
	sort.Strings(globals)
	for _, g := range globals {
		detail := "builtin"
		if doc, ok := s.builtinDoc(g); ok {
			detail = strings.TrimSpace("builtins." + doc.Name + " " + strings.Join(doc.Params, " "))
		}
		add(g, protocol.CompletionItemKindFunction, detail)
	}
	for _, k := range keywords {
		add(k, protocol.CompletionItemKindKeyword, "keyword")
	}
	return items
}

// attrNames evaluates the expression src (an attribute path) as if it
// were written at offset off of the document, and returns its attribute
// names if it is a set.
func (s *server) attrNames(d *document, off int, src string) []string {
	var names []string
	s.bounded(func(e *eval.Eval) error {
		cfg := s.config()
		cfg.BaseDir, cfg.Home = d.dir, e.Home
		f2 := analysis.Check(e.FileSet(), d.path, d.text, cfg)
		x, _, err := lang.Parse(e.FileSet(), "«completion»", src, lang.Config{BaseDir: d.dir})
		if err != nil {
			return err
		}
		focused := analysis.Focus(f2.Expr, f2.File.Pos(off), x)
		lang.Resolve(e.FileSet(), focused, e.BaseEnv(), true)
		v, err := e.EvalExpr(focused)
		if err != nil || v.Kind() != eval.KindAttrs {
			return err
		}
		for _, a := range v.AttrsValue().Lexicographic() {
			names = append(names, a.Name.String())
		}
		return nil
	})
	return names
}

// withNames evaluates the set of the with at offset off and returns its
// attribute names.
func (s *server) withNames(d *document, off int) []string {
	var names []string
	s.bounded(func(e *eval.Eval) error {
		cfg := s.config()
		cfg.BaseDir, cfg.Home = d.dir, e.Home
		f2 := analysis.Check(e.FileSet(), d.path, d.text, cfg)
		var with *lang.With
		lang.Inspect(f2.Expr, func(x lang.Expr) bool {
			if w, ok := x.(*lang.With); ok && f2.File.Offset(w.Start) == off {
				with = w
			}
			return with == nil
		})
		if with == nil {
			return nil
		}
		focused := analysis.FocusOn(f2.Expr, with.Attrs)
		if focused == nil {
			return nil
		}
		lang.Resolve(e.FileSet(), focused, e.BaseEnv(), true)
		v, err := e.EvalExpr(focused)
		if err != nil || v.Kind() != eval.KindAttrs {
			return err
		}
		for _, a := range v.AttrsValue().Lexicographic() {
			names = append(names, a.Name.String())
		}
		return nil
	})
	return names
}

// definition finds where the thing at p is defined.
func (s *server) definition(d *document, p protocol.Position) []protocol.Location {
	t, ok := d.file.Definition(d.pos(p))
	if !ok {
		return []protocol.Location{}
	}
	if t.Path != "" {
		return []protocol.Location{{URI: uri.File(t.Path)}}
	}
	return []protocol.Location{{URI: d.uri, Range: d.rangeOf(t.Def.NameStart, t.Def.NameEnd)}}
}

// symbols converts the outline.
func (s *server) symbols(d *document, syms []analysis.Symbol) []protocol.DocumentSymbol {
	out := []protocol.DocumentSymbol{}
	for _, x := range syms {
		kind := protocol.SymbolKindField
		switch x.Kind {
		case analysis.SymbolVariable:
			kind = protocol.SymbolKindVariable
		case analysis.SymbolFunction:
			kind = protocol.SymbolKindFunction
		case analysis.SymbolNamespace:
			kind = protocol.SymbolKindNamespace
		}
		ds := protocol.DocumentSymbol{
			Name: x.Name, Kind: kind, Detail: x.Def.Kind.String(),
			Range:          d.rangeOf(x.Start, x.End),
			SelectionRange: d.rangeOf(x.Def.NameStart, x.Def.NameEnd),
		}
		if len(x.Children) > 0 {
			ds.Children = s.symbols(d, x.Children)
		}
		out = append(out, ds)
	}
	return out
}
