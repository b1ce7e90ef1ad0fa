package lang

import "strings"

// indPart is a piece of an indented string before indentation stripping.
type indPart struct {
	pos  Pos
	text string
	raw  bool // literal source text, as opposed to an escape's result
	expr Expr // an interpolation
}

// stripIndentation removes the common leading indentation of an indented
// string, following Nix: the minimum is taken over lines that have
// non-space content (interpolations and escapes count as content), and a
// final line of only spaces is dropped. The parts are appended to out;
// buf is scratch space, returned for reuse.
func stripIndentation(parts []indPart, out []StringPart, buf []byte) ([]StringPart, []byte) {
	if len(parts) == 0 {
		return out, buf
	}
	atStartOfLine := true
	minIndent := 1000000
	curIndent := 0
	for _, part := range parts {
		if part.expr != nil || !part.raw {
			if atStartOfLine {
				atStartOfLine = false
				if curIndent < minIndent {
					minIndent = curIndent
				}
			}
			continue
		}
		for j := 0; j < len(part.text); j++ {
			c := part.text[j]
			if atStartOfLine {
				switch c {
				case ' ':
					curIndent++
				case '\n':
					curIndent = 0
				default:
					atStartOfLine = false
					if curIndent < minIndent {
						minIndent = curIndent
					}
				}
			} else if c == '\n' {
				atStartOfLine = true
				curIndent = 0
			}
		}
	}

	atStartOfLine = true
	curDropped := 0
	// buf holds the text of one part without its indentation.
	for i, part := range parts {
		if part.expr != nil {
			atStartOfLine = false
			curDropped = 0
			out = append(out, StringPart{Pos: part.pos, Expr: part.expr})
			continue
		}
		text := part.text
		buf = buf[:0]
		for j := 0; j < len(text); j++ {
			c := text[j]
			if atStartOfLine {
				switch c {
				case ' ':
					if curDropped >= minIndent {
						buf = append(buf, c)
					}
					curDropped++
				case '\n':
					curDropped = 0
					buf = append(buf, c)
				default:
					atStartOfLine = false
					curDropped = 0
					buf = append(buf, c)
				}
			} else {
				buf = append(buf, c)
				if c == '\n' {
					atStartOfLine = true
				}
			}
		}
		s := text // most parts lose no indentation: keep the token's text
		if string(buf) != text {
			s = string(buf)
		}
		if i == len(parts)-1 {
			// Drop a final line that holds only spaces.
			if k := strings.LastIndexByte(s, '\n'); k >= 0 && strings.Trim(s[k+1:], " ") == "" {
				s = s[:k+1]
			}
		}
		if s != "" {
			out = append(out, StringPart{Pos: part.pos, Text: s})
		}
	}
	return out, buf
}
