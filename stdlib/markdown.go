package stdlib

import (
	"fmt"
	"strings"
)

const generatedNote = "<!-- Generated from the doc comments in stdlib/ by `go test ./stdlib -run DocsReference -update`; do not edit. -->\n\n"

// Markdown renders the reference: README.md (the index) and a page per
// module with functions, keyed by file name.
func Markdown(mods []*Module) map[string]string {
	pages := map[string]string{}
	var idx strings.Builder
	idx.WriteString(generatedNote)
	idx.WriteString("# nixl's standard library\n\n")
	total := 0
	for _, m := range mods {
		total += len(m.Functions)
	}
	for _, m := range mods {
		switch m.Name {
		case "nixl":
			idx.WriteString(m.Doc + "\n\n")
			idx.WriteString("Look things up from the command line with `nixl doc` (the list), `nixl doc lib.strings` (a module) or `nixl doc lib.strings.splitString` (a function).\n\n")
			fmt.Fprintf(&idx, "## Modules\n\n%d functions in %d modules.\n\n| module | functions | |\n| --- | ---: | --- |\n", total, countWith(mods))
		case "lib":
			fmt.Fprintf(&idx, "| [lib](#lib) | | %s |\n", m.Summary())
		default:
			link := m.Name
			if len(m.Functions) > 0 {
				link = fmt.Sprintf("[%s](%s.md)", m.Name, m.Name)
				pages[m.Name+".md"] = modulePage(m)
			} else {
				link = fmt.Sprintf("[%s](#%s)", m.Name, anchor(m.Name))
			}
			n := ""
			if len(m.Functions) > 0 {
				n = fmt.Sprint(len(m.Functions))
			}
			fmt.Fprintf(&idx, "| %s | %s | %s |\n", link, n, m.Summary())
		}
	}
	for _, m := range mods {
		if m.Name == "nixl" || len(m.Functions) > 0 {
			continue
		}
		fmt.Fprintf(&idx, "\n<a id=\"%s\"></a>\n## %s\n\n%s\n\n(source: [stdlib/%s](../../stdlib/%s))\n", anchor(m.Name), m.Name, m.Doc, m.File, m.File)
	}
	pages["README.md"] = idx.String()
	return pages
}

func countWith(mods []*Module) int {
	n := 0
	for _, m := range mods {
		if len(m.Functions) > 0 {
			n++
		}
	}
	return n
}

func anchor(name string) string {
	return strings.NewReplacer(".", "-", "'", "-prime").Replace(strings.ToLower(name))
}

func modulePage(m *Module) string {
	var b strings.Builder
	b.WriteString(generatedNote)
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", m.Name, m.Doc)
	if m.Attr() != "" {
		fmt.Fprintf(&b, "Reached as `(import <nixl> { }).%s.NAME`", m.Attr())
		if m.IsLib() && m.Name != "lib.versions" && m.Name != "lib.generators" {
			b.WriteString(" and as `lib.NAME`")
		}
		b.WriteString(".\n\n")
	} else {
		b.WriteString("Reached as `(import <nixl> { }).NAME`.\n\n")
	}
	if len(m.Builtins) > 0 {
		fmt.Fprintf(&b, "Also here, from builtins: %s.\n\n", codeList(m.Builtins))
	}
	fmt.Fprintf(&b, "Source: [stdlib/%s](../../stdlib/%s). Back to the [index](README.md).\n\n", m.File, m.File)
	b.WriteString("| function | |\n| --- | --- |\n")
	for _, f := range m.Functions {
		fmt.Fprintf(&b, "| [%s](#%s) | %s |\n", f.Name, anchor(f.Name), strings.ReplaceAll(f.Summary(), "|", `\|`))
	}
	for _, f := range m.Functions {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## `%s`\n\n%s\n\n", anchor(f.Name), f.Path(), f.Description)
		if f.Type != "" {
			fmt.Fprintf(&b, "Type: `%s`\n\n", f.Type)
		}
		b.WriteString("```nix\n")
		for i, ex := range f.Examples {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(ex.Expr + "\n")
			if ex.Result != "" {
				b.WriteString("=> " + ex.Result + "\n")
			}
		}
		b.WriteString("```\n\n")
		fmt.Fprintf(&b, "[source](../../stdlib/%s#L%d)\n", m.File, f.Line)
	}
	return b.String()
}

func codeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}
