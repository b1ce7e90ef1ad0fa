package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/stdlib"
)

func init() {
	register(&command{name: "doc", summary: "show the documentation of the standard library (<nixl>)", run: func(c *cli, args []string) int {
		return c.doc(args)
	}})
}

// doc prints the library's documentation: the list of modules, a
// module's functions, or one function.
func (c *cli) doc(args []string) int {
	fs := pflag.NewFlagSet("doc", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprint(c.stderr, joinLines(
			"Usage: nixl doc [NAME]",
			"",
			"Without NAME, lists the modules of the standard library (import <nixl> { }).",
			"NAME is a module (lib.strings, toolbox, build.trivial), a function",
			"(lib.strings.splitString, lib.splitString, writeText, nixl.writeText), or the",
			"bare name of a function.",
		))
	}
	if rc, stop := c.parseFlags(fs, args); stop {
		return rc
	}
	mods, err := stdlib.Docs()
	if err != nil {
		return c.errorf("%v", err)
	}
	switch fs.NArg() {
	case 0:
		docIndex(c.stdout, mods)
		return 0
	case 1:
	default:
		fs.Usage()
		return 1
	}
	name := fs.Arg(0)
	m, found := stdlib.Lookup(mods, name)
	switch {
	case m != nil:
		docModule(c.stdout, m)
	case len(found) == 1:
		docFunction(c.stdout, found[0])
	case len(found) > 1:
		fmt.Fprintf(c.stdout, "%s is in several modules:\n", name)
		for _, f := range found {
			fmt.Fprintf(c.stdout, "  %-36s %s\n", f.Path(), f.Summary())
		}
		if found[0].Module.IsLib() {
			fmt.Fprintf(c.stdout, "\n(lib.%s is %s)\n", found[0].Name, found[0].Path())
		}
	default:
		c.errorf("nothing in the standard library is called '%s' (nixl doc lists the modules)", name)
		if s := suggest(mods, name); len(s) > 0 {
			fmt.Fprintf(c.stderr, "Did you mean %s?\n", strings.Join(s, ", "))
		}
		return 1
	}
	return 0
}

// libraryDocs reads the library's doc comments once per process: hovers
// and :doc ask again and again.
var libraryDocs = sync.OnceValues(stdlib.Docs)

// libraryFunction finds the library function an attribute path names:
// the path itself or, for a path reached through some set
// (pkgs.lib.strings.toUpper), its longest suffix of two or more names
// that names exactly one function.
func libraryFunction(path string) *stdlib.Function {
	mods, err := libraryDocs()
	if err != nil {
		return nil
	}
	parts := strings.Split(path, ".")
	for i := 0; i+2 <= len(parts); i++ {
		m, found := stdlib.Lookup(mods, strings.Join(parts[i:], "."))
		if m == nil && len(found) == 1 {
			return found[0]
		}
	}
	return nil
}

// libraryDoc is the REPL's :doc text for a library function.
func libraryDoc(path string) (string, bool) {
	f := libraryFunction(path)
	if f == nil {
		return "", false
	}
	var b strings.Builder
	docFunction(&b, f)
	return b.String() + "\n", true
}

// libraryDocMarkdown is the LSP's hover for a library function.
func libraryDocMarkdown(path string) (string, bool) {
	f := libraryFunction(path)
	if f == nil {
		return "", false
	}
	var b strings.Builder
	sig := f.Type
	if sig == "" {
		sig = f.Name
	}
	fmt.Fprintf(&b, "```nix\n%s\n```\n\n%s", sig, strings.TrimSpace(f.Description))
	for _, ex := range f.Examples {
		fmt.Fprintf(&b, "\n\n```nix\n%s", ex.Expr)
		if ex.Result != "" {
			fmt.Fprintf(&b, "\n=> %s", ex.Result)
		}
		b.WriteString("\n```")
	}
	fmt.Fprintf(&b, "\n\n%s (stdlib/%s:%d)", f.Path(), f.Module.File, f.Line)
	return b.String(), true
}

func docIndex(w io.Writer, mods []*stdlib.Module) {
	total := 0
	for _, m := range mods {
		total += len(m.Functions)
	}
	fmt.Fprintf(w, "nixl's standard library: let nixl = import <nixl> { }; in …\n%d functions. Run 'nixl doc MODULE' for a module, 'nixl doc NAME' for a function.\n\n", total)
	for _, m := range mods {
		if m.Name == "nixl" {
			continue
		}
		n := ""
		if len(m.Functions) > 0 {
			n = fmt.Sprintf("%3d", len(m.Functions))
		}
		fmt.Fprintf(w, "  %-22s %3s  %s\n", m.Name, n, clip(m.Summary(), 56))
	}
}

func docModule(w io.Writer, m *stdlib.Module) {
	fmt.Fprintf(w, "%s\n\n%s\n", m.Name, indent(m.Doc, "  "))
	if len(m.Builtins) > 0 {
		fmt.Fprintf(w, "\n  Also here, from builtins: %s.\n", strings.Join(m.Builtins, ", "))
	}
	if len(m.Functions) > 0 {
		fmt.Fprintln(w)
		width := 0
		for _, f := range m.Functions {
			width = max(width, len(f.Name))
		}
		for _, f := range m.Functions {
			fmt.Fprintf(w, "  %-*s  %s\n", width, f.Name, f.Summary())
		}
	}
	fmt.Fprintf(w, "\n(stdlib/%s)\n", m.File)
}

func docFunction(w io.Writer, f *stdlib.Function) {
	fmt.Fprintf(w, "%s\n", f.Path())
	if f.Type != "" {
		fmt.Fprintf(w, "  %s\n", f.Type)
	}
	fmt.Fprintf(w, "\n%s\n", indent(f.Description, "  "))
	if len(f.Examples) > 0 {
		fmt.Fprintf(w, "\nExample:\n")
		for i, ex := range f.Examples {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w, indent(ex.Expr, "  "))
			if ex.Result != "" {
				fmt.Fprintln(w, indent("=> "+ex.Result, "  "))
			}
		}
	}
	fmt.Fprintf(w, "\n(stdlib/%s:%d)\n", f.Module.File, f.Line)
}

// clip shortens a text to n characters at a word boundary.
func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	r := []rune(s)[:n]
	if i := strings.LastIndexByte(string(r), ' '); i > 0 {
		return string(r)[:i] + " …"
	}
	return string(r) + "…"
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// suggest lists names close to an unknown one.
func suggest(mods []*stdlib.Module, name string) []string {
	short := name[strings.LastIndexByte(name, '.')+1:]
	var out []string
	for _, m := range mods {
		for _, f := range m.Functions {
			if strings.EqualFold(f.Name, short) || lang.EditDistance(strings.ToLower(f.Name), strings.ToLower(short)) <= 2 {
				out = append(out, f.Path())
			}
		}
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}
