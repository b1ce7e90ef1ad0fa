package eval

import (
	"fmt"
	"strings"

	"github.com/nixl-project/nixl/lang"
)

// LintLevel is what an optional lint does: nothing, warn, or fail.
type LintLevel uint8

const (
	LintOff LintLevel = iota
	LintWarn
	LintFatal
)

// ParseLintLevel parses "warn", "fatal" or "ignore".
func ParseLintLevel(s string) (LintLevel, error) {
	switch s {
	case "ignore", "off", "":
		return LintOff, nil
	case "warn":
		return LintWarn, nil
	case "fatal":
		return LintFatal, nil
	}
	return LintOff, fmt.Errorf("invalid lint level '%s' (expected 'ignore', 'warn' or 'fatal')", s)
}

// Lints are Nix's optional checks of path and URL literals.
type Lints struct {
	AbsolutePath LintLevel // /a and ~/a
	ShortPath    LintLevel // a/b instead of ./a/b
	URL          LintLevel // unquoted http://…
}

func (l Lints) any() bool { return l.AbsolutePath|l.ShortPath|l.URL != LintOff }

// lint applies the configured lints to a freshly parsed tree: warnings are
// printed, a fatal lint is an error.
func (e *Eval) lint(x lang.Expr) error {
	if !e.Lints.any() {
		return nil
	}
	var err error
	report := func(level LintLevel, pos lang.Pos, msg string) {
		if level == LintOff || err != nil {
			return
		}
		if level == LintFatal {
			err = Errorf(ErrEval, pos, "%s", msg)
			return
		}
		d := lang.Diagnostic{Msg: msg, Pos: pos, Warning: true}
		fmt.Fprint(e.Stderr, d.Render(e.fset, true))
	}
	lang.Inspect(x, func(n lang.Expr) bool {
		switch n := n.(type) {
		case *lang.Path:
			switch n.Kind {
			case lang.PathAbsolute:
				report(e.Lints.AbsolutePath, n.Start, "absolute path literals are not portable. Consider replacing path literal '"+n.Raw+"' by a string, relative path, or parameter (lint-absolute-path-literals)")
			case lang.PathHome:
				report(e.Lints.AbsolutePath, n.Start, "home path literals are not portable. Consider replacing path literal '"+n.Raw+"' by a string, relative path, or parameter (lint-absolute-path-literals)")
			case lang.PathRelative:
				if !strings.HasPrefix(n.Raw, "./") && !strings.HasPrefix(n.Raw, "../") {
					report(e.Lints.ShortPath, n.Start, "relative path literal '"+n.Raw+"' should be prefixed with '.' for clarity: './"+n.Raw+"' (lint-short-path-literals)")
				}
			}
		case *lang.String:
			if n.URI {
				verb := "discouraged"
				if e.Lints.URL == LintFatal {
					verb = "disallowed"
				}
				report(e.Lints.URL, n.Start, "URL literals are "+verb+`. Consider using a string literal "`+n.Literal()+`" instead (lint-url-literals)`)
			}
		}
		return err == nil
	})
	return err
}
