package lang

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Pos is a compact source position: an offset into the byte space of a
// FileSet, where each file occupies its own range. The zero Pos means "no
// position" (Nix's noPos), e.g. for nodes produced by desugaring.
type Pos int

// NoPos is the absence of a position.
const NoPos Pos = 0

// IsValid reports whether p denotes a real position.
func (p Pos) IsValid() bool { return p != NoPos }

// Position is a position decoded for humans. Line and Col are 1-based; Col
// counts bytes like Nix does.
type Position struct {
	Filename string
	Offset   int
	Line     int
	Col      int
}

// IsValid reports whether the position denotes a real place.
func (p Position) IsValid() bool { return p.Line > 0 }

func (p Position) String() string {
	if !p.IsValid() {
		return "«none»"
	}
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Col)
}

// File is one source text registered in a FileSet. It keeps the text (for
// error snippets) and a table of line starts, made when first needed:
// most files are parsed and evaluated without a position ever being
// decoded, and the table of a big file takes a while to fill.
type File struct {
	name      string
	base      int
	src       string
	linesOnce sync.Once
	lines     []int // offsets of line starts; lines[0] == 0
}

// lineStarts returns the table of line starts.
func (f *File) lineStarts() []int {
	f.linesOnce.Do(f.computeLines)
	return f.lines
}

// Name is the file name as given when the file was added.
func (f *File) Name() string { return f.name }

// Base is the Pos of the first byte of the file.
func (f *File) Base() int { return f.base }

// Source is the text of the file.
func (f *File) Source() string { return f.src }

// Pos converts an offset within the file to a Pos.
func (f *File) Pos(offset int) Pos { return Pos(f.base + offset) }

// Offset converts a Pos inside the file to an offset.
func (f *File) Offset(p Pos) int { return int(p) - f.base }

// Position decodes an offset within this file.
func (f *File) Position(offset int) Position {
	lines := f.lineStarts()
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > offset }) - 1
	if i < 0 {
		i = 0
	}
	return Position{Filename: f.name, Offset: offset, Line: i + 1, Col: offset - lines[i] + 1}
}

// Line returns the text of the 1-based line n, without its terminator, and
// whether the line exists.
func (f *File) Line(n int) (string, bool) {
	lines := f.lineStarts()
	if n < 1 || n > len(lines) {
		return "", false
	}
	start := lines[n-1]
	end := len(f.src)
	if n < len(lines) {
		end = lines[n]
	}
	s := f.src[start:end]
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s, true
}

// LineCount is the number of lines; a final newline starts an (empty) line.
func (f *File) LineCount() int { return len(f.lineStarts()) }

// computeLines fills the line table. Nix treats "\r\n" and a lone "\r" as
// line ends too.
func (f *File) computeLines() {
	lines := make([]int, 1, len(f.src)/32+1)
	src := f.src
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			lines = append(lines, i+1)
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			lines = append(lines, i+1)
		}
	}
	f.lines = lines
}

// FileSet maps Pos values to files. It is safe for concurrent use.
type FileSet struct {
	mu    sync.RWMutex
	base  int
	files []*File
	last  atomic.Pointer[File]
}

// NewFileSet returns an empty file set. Positions start at 1 so that the
// zero Pos is never a real position.
func NewFileSet() *FileSet { return &FileSet{base: 1} }

// AddFile registers a source text under a name and returns its File.
func (s *FileSet) AddFile(name string, src string) *File {
	f := &File{name: name, src: src}
	s.mu.Lock()
	f.base = s.base
	s.base += len(src) + 1 // +1 so that the EOF position is inside the file
	s.files = append(s.files, f)
	s.mu.Unlock()
	return f
}

// File returns the file containing p, or nil.
func (s *FileSet) File(p Pos) *File {
	if p == NoPos {
		return nil
	}
	if f := s.last.Load(); f != nil && int(p) >= f.base && int(p) <= f.base+len(f.src) {
		return f
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.files), func(i int) bool { return s.files[i].base > int(p) }) - 1
	if i < 0 {
		return nil
	}
	f := s.files[i]
	if int(p) > f.base+len(f.src) {
		return nil
	}
	s.last.Store(f)
	return f
}

// Position decodes p; the zero Position if p is not in the set.
func (s *FileSet) Position(p Pos) Position {
	f := s.File(p)
	if f == nil {
		return Position{}
	}
	return f.Position(f.Offset(p))
}
