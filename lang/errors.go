package lang

import (
	"fmt"
	"sort"
)

// Error is a diagnostic at a source position.
type Error struct {
	Pos  Pos
	Posn Position
	Msg  string
	// File, when known, lets the error render a source snippet.
	File *File
}

func (e *Error) Error() string {
	if e.Posn.IsValid() {
		return e.Posn.String() + ": " + e.Msg
	}
	return e.Msg
}

// Format renders the error the way Nix prints parse errors:
//
//	error: MSG
//	       at FILE:L:C:
//	            L| source line
//	             |   ^
func (e *Error) Format(fset *FileSet) string {
	d := Diagnostic{Msg: e.Msg, Pos: e.Pos}
	return d.Render(fset, true)
}

// ErrorList is a list of errors, e.g. everything an error-tolerant parse
// found.
type ErrorList []*Error

func (l *ErrorList) Add(e *Error) { *l = append(*l, e) }

// Sort orders the errors by position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Posn, l[j].Posn
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
