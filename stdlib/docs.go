package stdlib

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// A Module is one file of the library with its documentation.
type Module struct {
	// Name is how the module is reached: "lib.strings", "toolbox",
	// "build.trivial".
	Name string
	// File is the file's path in FS.
	File string
	// Doc is the module's own doc comment.
	Doc string
	// Functions are the documented attributes, in file order.
	Functions []*Function
	// Builtins are the builtins the module re-exports under their own
	// names, with the comment that lists them.
	Builtins    []string
	BuiltinsDoc string
}

// A Function is one documented attribute.
type Function struct {
	Name   string
	Module *Module
	// Line is where its definition starts in Module.File.
	Line int
	// Description is the comment without its Type and Example sections.
	Description string
	// Type is the text after "Type:", as in "splitString :: string ->
	// string -> [string]".
	Type     string
	Examples []Example
}

// Path is the function's full name, e.g. lib.strings.splitString.
func (f *Function) Path() string { return f.Module.Name + "." + f.Name }

// Summary is the first sentence of the description.
func (f *Function) Summary() string { return firstSentence(f.Description) }

// Summary is the first sentence of the module's doc comment.
func (m *Module) Summary() string { return firstSentence(m.Doc) }

// An Example is an expression and, unless Result is empty, the value it
// must have. A Result starting with "error:" is an expected error.
type Example struct {
	Expr   string
	Result string
	// Line is the line of the expression in the module's file.
	Line int
}

// moduleFiles are the documented files, in the order of the reference,
// with their names.
var moduleFiles = []struct{ file, name string }{
	{"default.nixl", "nixl"},
	{"lib/default.nixl", "lib"},
	{"lib/trivial.nixl", "lib.trivial"},
	{"lib/lists.nixl", "lib.lists"},
	{"lib/strings.nixl", "lib.strings"},
	{"lib/attrsets.nixl", "lib.attrsets"},
	{"lib/fixed-points.nixl", "lib.fixedPoints"},
	{"lib/versions.nixl", "lib.versions"},
	{"lib/debug.nixl", "lib.debug"},
	{"lib/asserts.nixl", "lib.asserts"},
	{"lib/generators.nixl", "lib.generators"},
	{"lib/customisation.nixl", "lib.customisation"},
	{"lib/meta.nixl", "lib.meta"},
	{"build/toolbox.nixl", "toolbox"},
	{"build/trivial.nixl", "build.trivial"},
	{"build/fetchers.nixl", "build.fetchers"},
	{"build/make-derivation.nixl", "build.make-derivation"},
	{"image/default.nixl", "image"},
}

// Docs reads the doc comments of the library's files.
func Docs() ([]*Module, error) {
	var mods []*Module
	seen := map[string]bool{}
	for _, mf := range moduleFiles {
		src, err := fs.ReadFile(files, mf.file)
		if err != nil {
			return nil, err
		}
		m, err := parseModule(mf.name, mf.file, string(src))
		if err != nil {
			return nil, err
		}
		seen[mf.file] = true
		mods = append(mods, m)
	}
	// Files not listed above (new image builders, say) are modules named
	// by their path: image/oci.nixl is image.oci.
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || seen[p] || !strings.HasSuffix(p, ".nixl") {
			return err
		}
		src, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		name := strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(p, ".nixl"), "/default"), "/", ".")
		m, err := parseModule(name, p, string(src))
		if err != nil {
			return err
		}
		mods = append(mods, m)
		return nil
	})
	return mods, err
}

// IsLib reports whether the module is part of lib (pure functions).
func (m *Module) IsLib() bool { return strings.HasPrefix(m.Name, "lib.") }

// Attr is the attribute path of the module from `import <nixl> { }`:
// lib.strings for lib.strings, "" for the builders, which are attributes
// of the top level.
func (m *Module) Attr() string {
	switch {
	case m.IsLib(), m.Name == "lib", m.Name == "toolbox", m.Name == "image":
		return m.Name
	case strings.HasPrefix(m.Name, "image."):
		return "image"
	}
	return ""
}

var (
	bindingRE  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_'-]*)\s*=`)
	inheritRE  = regexp.MustCompile(`^inherit\s*\(builtins\)([^;]*);`)
	exampleRE  = regexp.MustCompile(`^Examples?:\s*$`)
	typeLineRE = regexp.MustCompile(`^Type:\s*(.*)$`)
)

func parseModule(name, file, src string) (*Module, error) {
	m := &Module{Name: name, File: file}
	rest := src
	offset := 0
	for {
		i := strings.Index(rest, "/**")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "*/")
		if j < 0 {
			return nil, fmt.Errorf("%s: unterminated doc comment", file)
		}
		body := rest[i+3 : i+j]
		after := rest[i+j+2:]
		afterOff := offset + i + j + 2
		rest = after
		offset = afterOff
		text := dedent(body)
		next := strings.TrimLeft(after, " \t\r\n")
		line := 1 + strings.Count(src[:afterOff+len(after)-len(next)], "\n")
		commentLine := 1 + strings.Count(src[:afterOff-len(body)-2], "\n")
		if mm := inheritRE.FindStringSubmatch(next); mm != nil {
			m.Builtins = append(m.Builtins, strings.Fields(mm[1])...)
			m.BuiltinsDoc = text
			continue
		}
		if mm := bindingRE.FindStringSubmatch(next); mm != nil {
			f, err := parseFunction(mm[1], text, commentLine+1)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %v", file, line, mm[1], err)
			}
			f.Module = m
			f.Line = line
			m.Functions = append(m.Functions, f)
			continue
		}
		if m.Doc != "" || len(m.Functions) > 0 {
			return nil, fmt.Errorf("%s:%d: a doc comment must precede a binding", file, line)
		}
		m.Doc = text
	}
	if m.Doc == "" {
		return nil, fmt.Errorf("%s: the file has no module doc comment", file)
	}
	return m, nil
}

// parseFunction splits a function's comment into description, type and
// examples. commentLine is the line of the comment's first text line.
func parseFunction(name, text string, commentLine int) (*Function, error) {
	f := &Function{Name: name}
	lines := strings.Split(text, "\n")
	var desc []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if mm := typeLineRE.FindStringSubmatch(l); mm != nil {
			f.Type = strings.TrimSpace(mm[1])
			continue
		}
		if exampleRE.MatchString(l) {
			// The example block: the indented lines that follow.
			start := i + 1
			end := start
			for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || strings.HasPrefix(lines[end], " ")) {
				end++
			}
			exs, err := parseExamples(lines[start:end], commentLine+start)
			if err != nil {
				return nil, err
			}
			f.Examples = append(f.Examples, exs...)
			i = end - 1
			continue
		}
		desc = append(desc, l)
	}
	f.Description = strings.TrimSpace(strings.Join(desc, "\n"))
	if f.Description == "" {
		return nil, fmt.Errorf("no description")
	}
	if len(f.Examples) == 0 {
		return nil, fmt.Errorf("no example")
	}
	return f, nil
}

// parseExamples reads "EXPR… => RESULT…" groups separated by blank
// lines; firstLine is the file line of lines[0].
func parseExamples(lines []string, firstLine int) ([]Example, error) {
	block := strings.Split(dedent(strings.Join(lines, "\n")), "\n")
	var out []Example
	var expr, result []string
	exprLine := 0
	inResult := false
	flush := func() {
		if len(expr) > 0 {
			out = append(out, Example{
				Expr:   strings.TrimSpace(strings.Join(expr, "\n")),
				Result: strings.TrimSpace(strings.Join(result, "\n")),
				Line:   exprLine,
			})
		}
		expr, result, inResult = nil, nil, false
	}
	for i, l := range block {
		switch {
		case strings.TrimSpace(l) == "":
			flush()
		case strings.HasPrefix(l, "=>"):
			if len(expr) == 0 {
				return nil, fmt.Errorf("a result without an expression in an example")
			}
			inResult = true
			result = append(result, strings.TrimSpace(strings.TrimPrefix(l, "=>")))
		case inResult:
			result = append(result, l)
		default:
			if len(expr) == 0 {
				exprLine = firstLine + i
			}
			expr = append(expr, l)
		}
	}
	flush()
	return out, nil
}

// dedent removes the indentation common to the non-blank lines, and
// blank lines at the start and end.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent && indent > 0 {
			lines[i] = l[indent:]
		} else {
			lines[i] = strings.TrimLeft(l, " \t")
		}
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// firstSentence is the first paragraph cut after its first full stop.
func firstSentence(s string) string {
	para, _, _ := strings.Cut(s, "\n\n")
	para = strings.Join(strings.Fields(para), " ")
	for i := 0; i+1 < len(para); i++ {
		if para[i] == '.' && para[i+1] == ' ' {
			return para[:i+1]
		}
	}
	return para
}

// Lookup finds what a name refers to: a module ("lib.strings"), a
// function by full name ("lib.strings.splitString"), through lib
// ("lib.splitString"), through the top level ("nixl.writeText"), or by
// its bare name ("splitString", when it is unique). It returns the
// module or the matching functions.
func Lookup(mods []*Module, name string) (*Module, []*Function) {
	for _, m := range mods {
		if m.Name == name {
			return m, nil
		}
	}
	var found []*Function
	add := func(match func(*Function) bool) {
		for _, m := range mods {
			for _, f := range m.Functions {
				if match(f) {
					found = append(found, f)
				}
			}
		}
	}
	add(func(f *Function) bool { return f.Path() == name })
	if len(found) > 0 {
		return nil, found
	}
	bare := name
	for _, p := range []string{"lib.", "nixl."} {
		if rest, ok := strings.CutPrefix(name, p); ok && !strings.Contains(rest, ".") {
			bare = rest
			if p == "lib." {
				add(func(f *Function) bool { return f.Module.IsLib() && f.Name == bare })
			} else {
				add(func(f *Function) bool { return !f.Module.IsLib() && f.Name == bare })
			}
		}
	}
	if len(found) > 0 {
		return nil, preferTopLevel(found)
	}
	add(func(f *Function) bool { return f.Name == bare })
	return nil, preferTopLevel(found)
}

// preferTopLevel orders functions as lib.NAME resolves them: the
// strings version of a name shared with lists, except replicate.
func preferTopLevel(fs []*Function) []*Function {
	rank := func(f *Function) int {
		switch {
		case f.Module.Name == "lib.lists" && f.Name == "replicate":
			return 0
		case f.Module.Name == "lib.strings":
			return 1
		}
		return 2
	}
	sort.SliceStable(fs, func(i, j int) bool { return rank(fs[i]) < rank(fs[j]) })
	return fs
}
