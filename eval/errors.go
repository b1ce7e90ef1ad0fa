package eval

import (
	"fmt"

	"github.com/nixl-project/nixl/lang"
)

// ErrorKind classifies evaluation errors; tryEval catches only thrown
// errors and failed assertions, as in Nix.
type ErrorKind uint8

const (
	ErrEval ErrorKind = iota
	ErrType
	ErrThrown
	ErrAssertion
	ErrAbort
	ErrInfiniteRecursion
	ErrUndefinedVar
	ErrMissingArgument
	ErrStackOverflow
	ErrRestricted
	ErrInterrupted
	ErrParse
	// ErrUsage: a bad option value passed through the language (an
	// unknown hash algorithm…); the CLI adds a pointer to --help.
	ErrUsage
	// ErrMemoryLimit: the evaluation went beyond Options.MaxMemory.
	ErrMemoryLimit
)

// Error is an evaluation error with Nix's trace of "… while …" frames.
type Error struct {
	Kind ErrorKind
	Msg  string
	Pos  lang.Pos
	Hint string
	// Trace lists frames innermost first (the order they are added in).
	Trace []lang.TraceFrame
	// recursionThunk is the thunk an infinite recursion re-entered; the
	// trace gets "entering the infinite recursion" when the error leaves
	// its evaluation.
	recursionThunk *Thunk
}

func (e *Error) Error() string {
	return e.Msg
}

// Diagnostic returns the error in printable form (trace outermost first).
func (e *Error) Diagnostic() *lang.Diagnostic {
	d := &lang.Diagnostic{Msg: e.Msg, Pos: e.Pos, Hint: e.Hint}
	for i := len(e.Trace) - 1; i >= 0; i-- {
		d.Trace = append(d.Trace, e.Trace[i])
	}
	return d
}

// Catchable reports whether builtins.tryEval catches the error.
func (e *Error) Catchable() bool { return e.Kind == ErrThrown || e.Kind == ErrAssertion }

// addTrace appends a frame to err if it is an *Error, and returns err.
func addTrace(err error, pos lang.Pos, msg string) error {
	if e, ok := err.(*Error); ok {
		e.Trace = append(e.Trace, lang.TraceFrame{Pos: pos, Msg: msg})
	}
	return err
}

// AddTrace appends a frame ("… while …") to an evaluation error.
func AddTrace(err error, pos lang.Pos, format string, args ...any) error {
	if e, ok := err.(*Error); ok {
		msg := format
		if len(args) > 0 {
			msg = fmt.Sprintf(format, args...)
		}
		e.Trace = append(e.Trace, lang.TraceFrame{Pos: pos, Msg: msg})
	}
	return err
}

// AddTraceAlways appends a frame that is shown even when the trace is
// truncated (without --show-trace), as addErrorContext's are.
func AddTraceAlways(err error, pos lang.Pos, msg string) error {
	if e, ok := err.(*Error); ok {
		e.Trace = append(e.Trace, lang.TraceFrame{Pos: pos, Msg: msg, Always: true})
	}
	return err
}

// Errorf makes an evaluation error of the given kind at pos.
func Errorf(kind ErrorKind, pos lang.Pos, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Kind: kind, Msg: msg, Pos: pos}
}

// TypeErrorf makes a type error.
func TypeErrorf(pos lang.Pos, format string, args ...any) *Error {
	return Errorf(ErrType, pos, format, args...)
}

// withPos sets the position of err if it has none.
func withPos(err error, pos lang.Pos) error {
	if e, ok := err.(*Error); ok && !e.Pos.IsValid() {
		e.Pos = pos
	}
	return err
}
