package builtins

import (
	"math"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// Version strings, as nix-env -u compares them: a version is a sequence
// of components, each a run of digits or a run of other characters; dots
// and dashes only separate components.

// nextVersionComponent returns the component of v that starts at or after
// *p, and moves *p past it; "" at the end.
func nextVersionComponent(v string, p *int) string {
	i := *p
	for i < len(v) && (v[i] == '.' || v[i] == '-') {
		i++
	}
	start := i
	if i < len(v) && reIsDigit(v[i]) {
		for i < len(v) && reIsDigit(v[i]) {
			i++
		}
	} else {
		for i < len(v) && !reIsDigit(v[i]) && v[i] != '.' && v[i] != '-' {
			i++
		}
	}
	*p = i
	return v[start:i]
}

// versionNumber reads a component as a number, as Nix does (into a C
// int: a number too large for one is not a number).
func versionNumber(c string) (int64, bool) {
	if c == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(c); i++ {
		if !reIsDigit(c[i]) {
			return 0, false
		}
		n = n*10 + int64(c[i]-'0')
		if n > math.MaxInt32 {
			return 0, false
		}
	}
	return n, true
}

// versionComponentLess orders two components: numbers numerically, a
// missing component before a number, "pre" before anything else, strings
// before numbers, and otherwise strings bytewise.
func versionComponentLess(c1, c2 string) bool {
	n1, ok1 := versionNumber(c1)
	n2, ok2 := versionNumber(c2)
	switch {
	case ok1 && ok2:
		return n1 < n2
	case c1 == "" && ok2:
		return true
	case c1 == "pre" && c2 != "pre":
		return true
	case c2 == "pre":
		return false
	case ok2:
		return true
	case ok1:
		return false
	}
	return c1 < c2
}

// compareVersions returns -1, 0 or 1.
func versionCompare(v1, v2 string) int {
	p1, p2 := 0, 0
	for p1 < len(v1) || p2 < len(v2) {
		c1 := nextVersionComponent(v1, &p1)
		c2 := nextVersionComponent(v2, &p2)
		if versionComponentLess(c1, c2) {
			return -1
		}
		if versionComponentLess(c2, c1) {
			return 1
		}
	}
	return 0
}

func primCompareVersions(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v1, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "compareVersions"))
	if err != nil {
		return eval.Value{}, err
	}
	v2, err := e.ForceStringNoCtx(args[1], lang.NoPos, argCtx(1, "compareVersions"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Int(int64(versionCompare(v1, v2))), nil
}

func primSplitVersion(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "splitVersion"))
	if err != nil {
		return eval.Value{}, err
	}
	var out []eval.Value
	for p := 0; p < len(v); {
		c := nextVersionComponent(v, &p)
		if c == "" {
			break
		}
		out = append(out, eval.String(c))
	}
	return eval.List(out), nil
}

// parseDrvName splits "name-version" at the first dash that is not
// followed by a letter.
func splitDrvName(s string) (name, version string) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && !versionIsLetter(s[i+1]) {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func versionIsLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func primParseDrvName(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "parseDrvName"))
	if err != nil {
		return eval.Value{}, err
	}
	name, version := splitDrvName(s)
	b := eval.NewAttrsBuilder(2)
	b.AddString("name", eval.String(name))
	b.AddString("version", eval.String(version))
	return b.Value(), nil
}
