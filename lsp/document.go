package lsp

import (
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/lang/analysis"
)

// document is an open text document and its analysis.
type document struct {
	uri     protocol.DocumentURI
	path    string // the file name for messages and evaluation
	dir     string // the directory relative paths are resolved against
	version int32
	text    string
	lines   []int // byte offsets of line starts
	file    *analysis.File
}

// uriPath maps a document URI to a file name and directory; URIs that
// name no file (untitled:…) keep the URI as the name and use the working
// directory.
func uriPath(u protocol.DocumentURI) (path, dir string) {
	s := string(u)
	if pu, err := url.Parse(s); err == nil && pu.Scheme == "file" {
		p := filepath.FromSlash(pu.Path)
		return p, filepath.Dir(p)
	}
	wd, _ := os.Getwd()
	return s, wd
}

func newDocument(u protocol.DocumentURI, version int32, text string, cfg analysis.Config) *document {
	d := &document{uri: u, version: version, text: text}
	d.path, d.dir = uriPath(u)
	d.lines = lineStarts(text)
	cfg.BaseDir = d.dir
	// A file set per version: nothing of older versions is kept.
	d.file = analysis.Check(lang.NewFileSet(), d.path, text, cfg)
	return d
}

// lineStarts finds the lines the way both LSP and Nix count them: \n,
// \r\n and a lone \r end a line.
func lineStarts(s string) []int {
	lines := []int{0}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			lines = append(lines, i+1)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			lines = append(lines, i+1)
		}
	}
	return lines
}

// offset converts an LSP position (UTF-16 code units) to a byte offset,
// clamped to the text.
func (d *document) offset(p protocol.Position) int {
	line := int(p.Line)
	if line >= len(d.lines) {
		return len(d.text)
	}
	start := d.lines[line]
	end := len(d.text)
	if line+1 < len(d.lines) {
		end = d.lines[line+1]
	}
	units := int(p.Character)
	off := start
	for off < end && units > 0 {
		r, size := utf8.DecodeRuneInString(d.text[off:end])
		if r == '\n' || r == '\r' {
			break
		}
		units -= max(utf16.RuneLen(r), 1)
		off += size
	}
	return off
}

// position converts a byte offset to an LSP position.
func (d *document) position(off int) protocol.Position {
	off = max(0, min(off, len(d.text)))
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
	line = max(line, 0)
	units := 0
	for _, r := range d.text[d.lines[line]:off] {
		units += max(utf16.RuneLen(r), 1)
	}
	return protocol.Position{Line: uint32(line), Character: uint32(units)}
}

// pos converts an LSP position to a position in the analysis' file set.
func (d *document) pos(p protocol.Position) lang.Pos {
	return d.file.File.Pos(d.offset(p))
}

// rangeOf converts [start, end) of the analysis' file set to an LSP range.
func (d *document) rangeOf(start, end lang.Pos) protocol.Range {
	f := d.file.File
	so, eo := f.Offset(start), f.Offset(end)
	if eo < so {
		eo = so
	}
	return protocol.Range{Start: d.position(so), End: d.position(eo)}
}

// linePrefix is the text of the cursor's line before the cursor.
func (d *document) linePrefix(off int) string {
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
	return strings.TrimLeft(d.text[d.lines[max(line, 0)]:off], "\r\n")
}
