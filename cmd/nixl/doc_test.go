package main

import (
	"bytes"
	"strings"
	"testing"
)

func runDoc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := c.main(append([]string{"doc"}, args...))
	return code, stdout.String(), stderr.String()
}

func TestDoc(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{nil, 0, []string{"import <nixl>", "lib.strings", "lib.attrsets", "toolbox", "build.trivial", "image"}},
		{[]string{"lib.strings"}, 0, []string{"Functions on strings", "splitString", "hasPrefix", "stdlib/lib/strings.nixl", "from builtins: concatStringsSep"}},
		{[]string{"lib.strings.splitString"}, 0, []string{"lib.strings.splitString", "splitString :: string -> string -> [string]", "Example:", `splitString "." "a.b..c"`, `=> [ "a" "b" "" "c" ]`}},
		{[]string{"lib.splitString"}, 0, []string{"lib.strings.splitString"}},
		{[]string{"splitString"}, 0, []string{"lib.strings.splitString"}},
		{[]string{"writeText"}, 0, []string{"build.trivial.writeText", "A text file in the store"}},
		{[]string{"nixl.mkDerivation"}, 0, []string{"build.make-derivation.mkDerivation"}},
		{[]string{"toolbox"}, 0, []string{"busybox", "Bootstrapping"}},
		{[]string{"hasPrefix"}, 0, []string{"lib.strings.hasPrefix", "lib.lists.hasPrefix", "(lib.hasPrefix is lib.strings.hasPrefix)"}},
		{[]string{"splitStrin"}, 1, []string{"Did you mean lib.strings.splitString?"}},
		{[]string{"a", "b"}, 1, []string{"Usage: nixl doc"}},
	} {
		code, out, errOut := runDoc(t, tc.args...)
		if code != tc.code {
			t.Errorf("nixl doc %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out+errOut, w) {
				t.Errorf("nixl doc %v does not show %q:\n%s%s", tc.args, w, out, errOut)
			}
		}
	}
}

// TestLibraryFunction: an attribute path, or its longest suffix of two or
// more names, finds the function the REPL's :doc and the LSP's hover
// show.
func TestLibraryFunction(t *testing.T) {
	for path, want := range map[string]string{
		"lib.strings.toUpper":      "lib.strings.toUpper",
		"nixl.lib.strings.toUpper": "lib.strings.toUpper",
		"pkgs.nixl.lib.toUpper":    "lib.strings.toUpper",
		"nixl.writeText":           "build.trivial.writeText",
		"toUpper":                  "",
		"x.y":                      "",
		"nixl.lib.strings":         "",
	} {
		got := ""
		if f := libraryFunction(path); f != nil {
			got = f.Path()
		}
		if got != want {
			t.Errorf("libraryFunction(%q) = %q, want %q", path, got, want)
		}
	}
	text, ok := libraryDocMarkdown("nixl.lib.strings.toUpper")
	if !ok || !strings.HasPrefix(text, "```nix\ntoUpper :: string -> string\n```") || !strings.Contains(text, "=> \"HELLO\"") {
		t.Errorf("markdown:\n%s", text)
	}
}
