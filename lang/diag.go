package lang

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TraceFrame is one "… while …" line of an error trace.
type TraceFrame struct {
	Pos Pos
	Msg string
	// Always frames are shown even when the trace is truncated.
	Always bool
}

// Diagnostic is everything needed to print an error the way Nix does.
type Diagnostic struct {
	Msg   string
	Pos   Pos
	Hint  string       // e.g. "Did you mean one of x or z?"
	Trace []TraceFrame // outermost first
	// Warning makes it a "warning:" instead of an "error:".
	Warning bool
}

// Render formats d in Nix's layout: the trace frames (outermost first,
// runs of repeated frames elided), then the message, its position with a
// source snippet, and the hint; every line after the first indented under
// "error: ". Without showTrace only the first few frames are shown.
func (d *Diagnostic) Render(fset *FileSet, showTrace bool) string {
	var b strings.Builder
	if len(d.Trace) > 0 {
		seen := map[TraceFrame]bool{}
		var skipped []TraceFrame
		count := 0
		truncate := false
		flush := func() {
			if len(skipped) == 0 {
				return
			}
			if len(skipped) <= 5 {
				for _, t := range skipped {
					count += writeFrame(&b, fset, t)
				}
			} else {
				fmt.Fprintf(&b, "\n(%d duplicate frames omitted)\n", len(skipped))
			}
			skipped = skipped[:0]
		}
		for _, t := range d.Trace {
			if t.Msg == "" {
				continue
			}
			if !showTrace && count > 3 {
				truncate = true
			}
			if truncate && !t.Always {
				continue
			}
			key := TraceFrame{Pos: t.Pos, Msg: t.Msg}
			if seen[key] {
				skipped = append(skipped, t)
				continue
			}
			seen[key] = true
			flush()
			count += writeFrame(&b, fset, t)
		}
		flush()
		if truncate {
			b.WriteString("\n(stack trace truncated; use '--show-trace' to show the full, detailed trace)\n")
		}
		b.WriteString("\nerror: ")
	}
	b.WriteString(d.Msg)
	b.WriteString("\n")
	writePos(&b, fset, "", d.Pos)
	if d.Hint != "" {
		b.WriteString(d.Hint)
		b.WriteString("\n")
	}
	prefix := "error: "
	if d.Warning {
		prefix = "warning: "
	}
	body := strings.TrimRight(b.String(), " \t\n")
	if len(d.Trace) > 0 {
		// The first "error: " above is the last line's prefix; the first
		// line of the whole message is empty.
		body = strings.Replace(body, "\nerror: ", "\n"+prefix, 1)
	}
	out := indentLines(prefix, strings.Repeat(" ", len(prefix)), body) + "\n"
	if strings.HasSuffix(d.Msg, "\n") && !d.Pos.IsValid() && d.Hint == "" {
		// A message ending in a newline leaves Nix an indented, empty
		// last line (as fromTOML's multi-line errors show).
		out += strings.Repeat(" ", len(prefix)) + "\n"
	}
	// Messages quote strings of the program (file names, values): what a
	// terminal would act on is shown as '?'.
	return printableLine(out)
}

func writeFrame(b *strings.Builder, fset *FileSet, t TraceFrame) int {
	b.WriteString("\n… ")
	b.WriteString(t.Msg)
	b.WriteString("\n")
	if writePos(b, fset, "  ", t.Pos) {
		return 2
	}
	return 1
}

func writePos(b *strings.Builder, fset *FileSet, indent string, pos Pos) bool {
	if !pos.IsValid() || fset == nil {
		return false
	}
	f := fset.File(pos)
	if f == nil {
		return false
	}
	posn := f.Position(f.Offset(pos))
	b.WriteString(indent)
	b.WriteString("at ")
	b.WriteString(posn.String())
	b.WriteString(":")
	if f.src != "" || posn.Line == 1 {
		writeCodeLines(b, f, posn)
		b.WriteString("\n")
	}
	return true
}

// writeCodeLines writes the lines around posn with a caret under the
// column: the line before, the line, a caret line, the line after. Each
// line starts with a newline and is not yet indented.
func writeCodeLines(b *strings.Builder, f *File, posn Position) {
	text, ok := f.Line(posn.Line)
	if !ok {
		return
	}
	// A generated or minified file can have lines of megabytes: show a
	// window of them around the column rather than the whole line.
	from, col := 0, posn.Col
	if len(text) > maxSnippetLine && posn.Col > snippetWindow/2 {
		from = runeStart(text, posn.Col-1-snippetWindow/2)
		col = posn.Col - from + 1 // after the "…"
	}
	line := func(n int) {
		text, ok := f.Line(n)
		if !ok {
			return
		}
		fmt.Fprintf(b, "\n %5d|", n)
		if text = strings.TrimRight(text, " \t"); text != "" {
			b.WriteByte(' ')
			b.WriteString(printableLine(snippetWindowOf(text, from)))
		}
	}
	if posn.Line > 1 {
		line(posn.Line - 1)
	}
	line(posn.Line)
	b.WriteString("\n      |")
	b.WriteString(strings.Repeat(" ", col))
	b.WriteString("^")
	line(posn.Line + 1)
}

// Source lines longer than maxSnippetLine bytes are shown as a window of
// snippetWindow bytes around the error's column, cut at "…".
const (
	maxSnippetLine = 240
	snippetWindow  = 160
)

// snippetWindowOf cuts a long line to the window starting at byte from.
func snippetWindowOf(text string, from int) string {
	if len(text) <= maxSnippetLine {
		return text
	}
	prefix, suffix := "", ""
	if from >= len(text) {
		return "…"
	}
	if from > 0 {
		prefix = "…"
	}
	end := len(text)
	if from+snippetWindow < end {
		end, suffix = runeStart(text, from+snippetWindow), "…"
	}
	return prefix + text[from:end] + suffix
}

// runeStart moves i back to the start of the UTF-8 sequence it is in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// indentLines prefixes the first line with first and the others with
// rest; empty lines stay empty and trailing blanks are trimmed.
func indentLines(first, rest, s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			lines[i] = strings.TrimRight(p, " ")
			if i > 0 {
				lines[i] = ""
			}
			continue
		}
		lines[i] = strings.TrimRight(p+l, " \t")
	}
	return strings.Join(lines, "\n")
}

// printableLine replaces, byte for byte (so the caret's column still
// fits), the characters of a source line or message that a terminal
// would act on: control characters other than newline, tab and NUL (an
// escape sequence could rewrite the screen or the window title), DEL,
// and the C1 controls, as in a binary file read by mistake. NUL and
// bytes that are not UTF-8 are shown as they are, as Nix does.
func printableLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != 0 && c < ' ' && c != '\t' && c != '\n' || c == 0x7f || c == 0xc2 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1 && (r != 0 && r < ' ' && r != '\t' && r != '\n' || r == 0x7f), size == 2 && r >= 0x80 && r <= 0x9f:
			b.WriteString(strings.Repeat("?", size))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Printable is printableLine for other messages that quote what a
// program or a file gave: a CLI's error messages.
func Printable(s string) string { return printableLine(s) }
