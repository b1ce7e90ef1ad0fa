package builtins

import (
	"errors"
	"math"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// The string builtins. Like Nix's primops they receive no position of
// their own (errors about arguments carry none; the call site shows up in
// the "while calling the 'x' builtin" frame), and every string they build
// keeps the context of the strings it was built from.

var stringBuiltins = []builtin{
	{name: "toString", forcesFirst: true, global: true, params: []string{"e"}, fn: primToString,
		doc: "Converts e to a string. Strings are returned unchanged (context included), a path becomes the " +
			"path as a string (it is not copied to the store), integers are written in decimal and floats with " +
			"six decimals, true is \"1\" while false and null are \"\", lists are converted element by element " +
			"and joined with spaces, and a set is converted through its `__toString` function or its `outPath`."},
	{name: "stringLength", forcesFirst: true, params: []string{"e"}, fn: primStringLength,
		doc: "The length of the string e in bytes (not characters). e may also be anything that string " +
			"interpolation accepts, such as a path (copied to the store first) or a derivation."},
	{name: "substring", forcesFirst: true, params: []string{"start", "len", "s"}, fn: primSubstring,
		doc: "The part of s that begins at byte offset start (counting from 0) and is len bytes long. " +
			"It is cut short at the end of s, and is empty if start lies beyond the end; a negative len " +
			"means \"up to the end\". start must not be negative. The result keeps the context of s, " +
			"even when it is empty."},
	{name: "concatStringsSep", params: []string{"separator", "list"}, fn: primConcatStringsSep,
		doc: "Joins the strings of list, putting separator between each two of them: " +
			"`concatStringsSep \", \" [ \"a\" \"b\" ]` is \"a, b\". The elements may be anything string " +
			"interpolation accepts."},
	{name: "replaceStrings", forcesFirst: true, params: []string{"from", "to", "s"}, fn: primReplaceStrings,
		doc: "Scans s from left to right and, wherever one of the strings of the list from occurs, puts the " +
			"string at the same index of the list to in its place (the first one in from wins when several " +
			"occur at the same spot). Replaced text is not scanned again. An empty string in from matches " +
			"between every two characters. An element of to is only evaluated if it is needed."},
	{name: "match", params: []string{"regex", "str"}, fn: primMatch,
		doc: "Matches all of str against the POSIX extended regular expression regex. Returns null if it " +
			"doesn't match, and otherwise the list of what each parenthesised group captured (null for a " +
			"group that took no part in the match): `match \"a(b)(c)?\" \"ab\"` is [ \"b\" null ]."},
	{name: "split", params: []string{"regex", "str"}, fn: primSplit,
		doc: "Cuts str at every match of the POSIX extended regular expression regex. The result alternates " +
			"the text between matches with, for each match, the list of what its groups captured (null for " +
			"a group that took no part): `split \"(,)\" \"a,b\"` is [ \"a\" [ \",\" ] \"b\" ]."},
	{name: "baseNameOf", global: true, params: []string{"x"}, fn: primBaseNameOf,
		doc: "The last component of the path or string x, as a string: everything after the final slash, " +
			"ignoring one slash at the very end (`baseNameOf \"/a/b/\"` is \"b\")."},
	{name: "dirOf", global: true, params: []string{"x"}, fn: primDirOf,
		doc: "Everything in x before its final slash. For a path the result is the parent directory, as a " +
			"path (the root is its own parent); for a string it is a string, \".\" if there is no slash at all."},
	{name: "splitVersion", params: []string{"s"}, fn: primSplitVersion,
		doc: "Cuts the version string s into its components, the way compareVersions sees them: runs of " +
			"digits and runs of other characters, with dots and dashes only separating them. " +
			"`splitVersion \"1.2pre3\"` is [ \"1\" \"2\" \"pre\" \"3\" ]."},
	{name: "compareVersions", params: []string{"s1", "s2"}, fn: primCompareVersions,
		doc: "Compares two version strings component by component (see splitVersion) and returns -1, 0 or 1 " +
			"as s1 is older than, the same as or newer than s2. Numbers compare as numbers, \"pre\" comes " +
			"before anything else, and a missing component is older than a number."},
	{name: "parseDrvName", params: []string{"s"}, fn: primParseDrvName,
		doc: "Splits a package name such as \"hello-2.1\" into { name = \"hello\"; version = \"2.1\"; }. The " +
			"version starts after the first dash that is not followed by a letter; without such a dash it is \"\"."},
}

func primToString(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := e.CoerceToString(args[0], lang.NoPos, eval.CoerceOptions{More: true},
		"while evaluating the first argument passed to builtins.toString")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(s, ctx), nil
}

func primStringLength(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, _, err := e.CoerceToString(args[0], lang.NoPos, eval.CoerceOptions{CopyToStore: true},
		"while evaluating the argument passed to builtins.stringLength")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.Int(int64(len(s))), nil
}

func primSubstring(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	start, err := e.ForceInt(args[0], lang.NoPos,
		"while evaluating the first argument (the start offset) passed to builtins.substring")
	if err != nil {
		return eval.Value{}, err
	}
	if start < 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "negative start position in 'substring'")
	}
	length, err := e.ForceInt(args[1], lang.NoPos,
		"while evaluating the second argument (the substring length) passed to builtins.substring")
	if err != nil {
		return eval.Value{}, err
	}
	if length < 0 {
		length = math.MaxInt64
	}
	if length == 0 {
		// An empty substring of a string is a way to take just its
		// context; it doesn't coerce.
		v := args[2]
		if err := e.ForceAt(&v, lang.NoPos); err != nil {
			return eval.Value{}, err
		}
		if v.Kind() == eval.KindString {
			return eval.StringWithContext("", v.Context()), nil
		}
	}
	s, ctx, err := e.CoerceToString(args[2], lang.NoPos, eval.CoerceOptions{CopyToStore: true},
		"while evaluating the third argument (the string) passed to builtins.substring")
	if err != nil {
		return eval.Value{}, err
	}
	if uint64(start) >= uint64(len(s)) {
		return eval.StringWithContext("", ctx), nil
	}
	end := len(s)
	if rest := int64(len(s)) - start; length < rest {
		end = int(start + length)
	}
	return eval.StringWithContext(s[start:end], ctx), nil
}

func primConcatStringsSep(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	sep, sepCtx, err := e.ForceString(args[0], lang.NoPos,
		"while evaluating the first argument (the separator string) passed to builtins.concatStringsSep")
	if err != nil {
		return eval.Value{}, err
	}
	list, err := e.ForceList(args[1], lang.NoPos,
		"while evaluating the second argument (the list of strings to concat) passed to builtins.concatStringsSep")
	if err != nil {
		return eval.Value{}, err
	}
	var cb eval.ContextBuilder
	cb.Add(sepCtx)
	// The parts are collected first so that the result is allocated once.
	parts := make([]string, len(list))
	size := len(sep) * max(len(list)-1, 0)
	for i := range list {
		eval.PrefetchAhead(list, i)
		s, ctx, err := e.CoerceToString(list[i], lang.NoPos, eval.CoerceOptions{CopyToStore: true},
			"while evaluating one element of the list of strings to concat passed to builtins.concatStringsSep")
		if err != nil {
			return eval.Value{}, err
		}
		parts[i] = s
		size += len(s)
		cb.Add(ctx)
	}
	if err := e.CheckStringSize(size, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	var b strings.Builder
	b.Grow(size)
	for i, s := range parts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return eval.StringWithContext(b.String(), cb.Context()), nil
}

func primReplaceStrings(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	fromList, err := e.ForceList(args[0], lang.NoPos, argCtx(0, "replaceStrings"))
	if err != nil {
		return eval.Value{}, err
	}
	toList, err := e.ForceList(args[1], lang.NoPos, argCtx(1, "replaceStrings"))
	if err != nil {
		return eval.Value{}, err
	}
	if len(fromList) != len(toList) {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos,
			"'from' and 'to' arguments passed to builtins.replaceStrings have different lengths")
	}
	from := make([]string, len(fromList))
	for i := range fromList {
		// The context of the patterns does not matter.
		from[i], _, err = e.ForceString(fromList[i], lang.NoPos,
			"while evaluating one of the strings to replace passed to builtins.replaceStrings")
		if err != nil {
			return eval.Value{}, err
		}
	}
	s, sCtx, err := e.ForceString(args[2], lang.NoPos, argCtx(2, "replaceStrings"))
	if err != nil {
		return eval.Value{}, err
	}
	if len(from) == 0 {
		return eval.StringWithContext(s, sCtx), nil
	}

	// Which patterns can match at a position: those starting with the
	// byte there, in list order, and the first empty pattern (which
	// matches everywhere, so no later pattern can win).
	firstEmpty := -1
	var byFirst [256][]int
	for i, f := range from {
		if f == "" {
			if firstEmpty < 0 {
				firstEmpty = i
			}
			continue
		}
		if firstEmpty < 0 {
			byFirst[f[0]] = append(byFirst[f[0]], i)
		}
	}

	var cb eval.ContextBuilder
	cb.Add(sCtx)
	to := make([]*string, len(toList))
	replacement := func(i int) (string, error) {
		if to[i] != nil {
			return *to[i], nil
		}
		t, ctx, err := e.ForceString(toList[i], lang.NoPos,
			"while evaluating one of the replacement strings passed to builtins.replaceStrings")
		if err != nil {
			return "", err
		}
		to[i] = &t
		cb.Add(ctx)
		return t, nil
	}

	var b strings.Builder
	b.Grow(len(s))
	for p := 0; p <= len(s); {
		if firstEmpty < 0 {
			// Bytes no pattern starts with are copied in one go.
			start := p
			for p < len(s) && byFirst[s[p]] == nil {
				p++
			}
			b.WriteString(s[start:p])
		}
		found := -1
		if p < len(s) {
			for _, i := range byFirst[s[p]] {
				if strings.HasPrefix(s[p:], from[i]) {
					found = i
					break
				}
			}
		}
		if found < 0 {
			found = firstEmpty
		}
		if found < 0 {
			if p < len(s) {
				b.WriteByte(s[p])
			}
			p++
			continue
		}
		t, err := replacement(found)
		if err != nil {
			return eval.Value{}, err
		}
		if n := b.Len() + len(t); n >= eval.SizeCheckFrom() {
			if err := e.CheckStringSize(n+len(s)-p, lang.NoPos); err != nil {
				return eval.Value{}, err
			}
		}
		b.WriteString(t)
		if from[found] == "" {
			if p < len(s) {
				b.WriteByte(s[p])
			}
			p++
		} else {
			p += len(from[found])
		}
	}
	return eval.StringWithContext(b.String(), cb.Context()), nil
}

// compileRegex gets the compiled form of the pattern argument of match
// or split, failing as Nix does.
func compileRegex(re string) (*reProg, error) {
	prog, err := regexFor(re)
	if err != nil {
		if errors.Is(err, errRegexSpace) {
			return nil, eval.Errorf(eval.ErrEval, lang.NoPos, "memory limit exceeded by regular expression '%s'", re)
		}
		return nil, eval.Errorf(eval.ErrEval, lang.NoPos, "invalid regular expression '%s'", re)
	}
	return prog, nil
}

// reGroups is the list of groups 1… of a match; a group that took no
// part is null. The strings have no context, as in Nix.
func reGroups(s string, groups []reSub) eval.Value {
	out := make([]eval.Value, len(groups)-1)
	for i, g := range groups[1:] {
		if g.matched {
			out[i] = eval.String(s[g.first:g.second])
		} else {
			out[i] = eval.Null
		}
	}
	return eval.List(out)
}

func primMatch(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	re, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "match"))
	if err != nil {
		return eval.Value{}, err
	}
	prog, err := compileRegex(re)
	if err != nil {
		return eval.Value{}, err
	}
	s, _, err := e.ForceString(args[1], lang.NoPos, argCtx(1, "match"))
	if err != nil {
		return eval.Value{}, err
	}
	x := newReExec(prog, s)
	x.stop = e
	defer x.release()
	if !x.match() {
		if x.stopped {
			return eval.Value{}, e.CheckInterrupt(pos)
		}
		return eval.Null, nil
	}
	return reGroups(s, x.results), nil
}

func primSplit(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	re, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "split"))
	if err != nil {
		return eval.Value{}, err
	}
	prog, err := compileRegex(re)
	if err != nil {
		return eval.Value{}, err
	}
	str := args[1]
	if err := e.ForceAt(&str, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	s, _, err := e.ForceString(str, lang.NoPos, argCtx(1, "split"))
	if err != nil {
		return eval.Value{}, err
	}
	matches, done := prog.findAllUnless(s, e)
	if !done {
		return eval.Value{}, e.CheckInterrupt(pos)
	}
	if len(matches) == 0 {
		// No match: the string itself, context and all.
		return eval.List([]eval.Value{str}), nil
	}
	out := make([]eval.Value, 0, 2*len(matches)+1)
	for _, m := range matches {
		out = append(out, eval.String(s[m.prefixStart:m.groups[0].first]), reGroups(s, m.groups))
	}
	out = append(out, eval.String(s[matches[len(matches)-1].groups[0].second:]))
	return eval.List(out), nil
}

func primBaseNameOf(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := e.CoerceToString(args[0], lang.NoPos, eval.CoerceOptions{},
		"while evaluating the first argument passed to builtins.baseNameOf")
	if err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(nixBaseNameOf(s), ctx), nil
}

// nixBaseNameOf is what follows the last slash of s, not counting one
// trailing slash ("a/b/" gives "b", but "a//" gives "").
func nixBaseNameOf(s string) string {
	if s == "" {
		return ""
	}
	last := len(s) - 1
	if s[last] == '/' && last > 0 {
		last--
	}
	start := strings.LastIndexByte(s[:last+1], '/') + 1
	return s[start : last+1]
}

func primDirOf(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v := args[0]
	if err := e.ForceAt(&v, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	if v.Kind() == eval.KindPath {
		p := v.Str()
		i := strings.LastIndexByte(p, '/')
		switch {
		case p == "/" || i < 0:
			return v, nil
		case i == 0:
			return eval.Path("/"), nil
		}
		return eval.Path(p[:i]), nil
	}
	s, ctx, err := e.CoerceToString(v, lang.NoPos, eval.CoerceOptions{},
		"while evaluating the first argument passed to 'builtins.dirOf'")
	if err != nil {
		return eval.Value{}, err
	}
	i := strings.LastIndexByte(s, '/')
	switch {
	case i < 0:
		return eval.StringWithContext(".", ctx), nil
	case i == 0:
		return eval.StringWithContext("/", ctx), nil
	}
	return eval.StringWithContext(s[:i], ctx), nil
}
