package builtins_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
)

// indentedStrings returns the indented strings (between two pairs of
// single quotes) of a test file, with their common indentation removed:
// seeds for the parsers' fuzz targets.
func indentedStrings(f *testing.F, file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?s)''\n(.*?)''`).FindAllStringSubmatch(string(data), -1) {
		lines := strings.Split(m[1], "\n")
		indent := -1
		for _, l := range lines {
			if strings.TrimSpace(l) == "" {
				continue
			}
			if n := len(l) - len(strings.TrimLeft(l, " ")); indent < 0 || n < indent {
				indent = n
			}
		}
		for i, l := range lines {
			if len(l) >= indent && indent > 0 {
				lines[i] = l[indent:]
			}
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return out
}

// callBuiltin applies builtins.NAME to a string and forces the result
// deeply.
func callBuiltin(e *eval.Eval, name, arg string) (eval.Value, error) {
	fn := e.BuiltinsValue().AttrsValue().Get(eval.Intern(name))
	v, err := e.CallFunction(fn.Value, []eval.Value{eval.String(arg)}, lang.NoPos)
	if err != nil {
		return v, err
	}
	err = e.ForceDeep(&v, lang.NoPos)
	return v, err
}

// checkEvalError fails unless err is an evaluation error: the parsers
// report bad input as Nix errors, nothing else.
func checkEvalError(t *testing.T, input string, err error) {
	t.Helper()
	var ee *eval.Error
	if !errors.As(err, &ee) {
		t.Fatalf("input %q: error of type %T: %v", input, err, err)
	}
	if ee.Msg == "" {
		t.Fatalf("input %q: error without a message", input)
	}
}

// FuzzFromJSON checks that builtins.fromJSON never panics and fails only
// with evaluation errors, and that whatever Go's encoding/json accepts,
// nixl accepts too, with the same value, except where Nix's JSON differs
// on purpose: strings with null bytes (Nix strings cannot hold them),
// unpaired surrogate escapes (nlohmann rejects them, Go replaces them),
// integers above the Nix integer range and numbers that overflow a float
// (errors in Nix).
func FuzzFromJSON(f *testing.F) {
	e, _ := evaltest.New(f, evaltest.Options{})
	for _, s := range indentedStrings(f, "testdata/fromJSON.nixl") {
		f.Add(s)
	}
	for _, file := range []string{"../stdlib/tests/settings.json", "testdata/regex_golden.json"} {
		if data, err := os.ReadFile(file); err == nil && len(data) < 64<<10 {
			f.Add(string(data))
		}
	}
	// JSON written by the code itself: toJSON of a value with every type.
	v, err := e.EvalString("seed.nix", `builtins.toJSON { a = [ 1 (-2) 3.5 1.0e300 true false null "x\"\n\u00e9\t" { } [ ] ]; "b c" = { d = "𝄞"; }; e = -0.0; }`, "/")
	if err != nil {
		f.Fatal(err)
	}
	if err := e.ForceDeep(&v, lang.NoPos); err != nil {
		f.Fatal(err)
	}
	f.Add(v.Str())
	for _, s := range []string{`{"a":1,"a":2}`, ` [1, 2.0e-3 ,-0, "\ud834\udd1e"] `, `"\u0000"`, `18446744073709551615`, `1e400`, `[[[[[]]]]]`, `{"":{"":null}}`, "\ufeff{}"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, input string) {
		got, err := callBuiltin(e, "fromJSON", input)
		if err != nil {
			checkEvalError(t, input, err)
		}
		if !json.Valid([]byte(input)) || !utf8.ValidString(input) || surrogateEscape.MatchString(input) {
			return
		}
		d := json.NewDecoder(strings.NewReader(input))
		d.UseNumber()
		var want any
		if d.Decode(&want) != nil || !nixRepresentable(want) {
			return
		}
		if err != nil {
			t.Fatalf("valid JSON %q rejected: %v", input, err)
		}
		if msg := sameJSON(got, want, "$"); msg != "" {
			t.Fatalf("JSON %q: %s", input, msg)
		}
	})
}

// surrogateEscape finds \uD800-\uDFFF escapes (possibly preceded by an
// escaped backslash, which only makes the fuzz target skip more).
var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

// nixRepresentable reports whether a decoded JSON document can be a Nix
// value: no null bytes in strings or keys, integers within Nix's range
// (negative ones beyond it become floats, as in Nix), finite floats.
func nixRepresentable(x any) bool {
	switch x := x.(type) {
	case string:
		return !strings.Contains(x, "\x00")
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if math.IsInf(f, 0) || (err != nil && !errors.Is(err, strconv.ErrRange)) {
			return false
		}
		if isJSONInteger(string(x)) && !strings.HasPrefix(string(x), "-") {
			_, err := strconv.ParseInt(string(x), 10, 64)
			return err == nil
		}
		return true
	case []any:
		for _, y := range x {
			if !nixRepresentable(y) {
				return false
			}
		}
	case map[string]any:
		for k, y := range x {
			if strings.Contains(k, "\x00") || !nixRepresentable(y) {
				return false
			}
		}
	}
	return true
}

func isJSONInteger(s string) bool { return !strings.ContainsAny(s, ".eE") }

// sameJSON compares a value from fromJSON with encoding/json's decoding
// of the same text; it returns what differs, or "".
func sameJSON(v eval.Value, want any, path string) string {
	bad := func() string {
		return path + ": got " + v.TypeName() + ", want " + strconv.Quote(strings.TrimSpace(jsonText(want)))
	}
	switch w := want.(type) {
	case nil:
		if v.Kind() != eval.KindNull {
			return bad()
		}
	case bool:
		if v.Kind() != eval.KindBool || v.BoolValue() != w {
			return bad()
		}
	case string:
		if v.Kind() != eval.KindString || v.Str() != w {
			return bad()
		}
	case json.Number:
		s := string(w)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && isJSONInteger(s) {
			if v.Kind() != eval.KindInt || v.IntValue() != i {
				return bad()
			}
			return ""
		}
		f, _ := strconv.ParseFloat(s, 64)
		if v.Kind() != eval.KindFloat || v.FloatValue() != f {
			return bad()
		}
	case []any:
		if v.Kind() != eval.KindList || v.Len() != len(w) {
			return bad()
		}
		for i, x := range v.ListValue() {
			if msg := sameJSON(x, w[i], path+"["+strconv.Itoa(i)+"]"); msg != "" {
				return msg
			}
		}
	case map[string]any:
		if v.Kind() != eval.KindAttrs || len(v.AttrsValue()) != len(w) {
			return bad()
		}
		attrs := v.AttrsValue()
		for k, x := range w {
			a := attrs.Get(eval.Intern(k))
			if a == nil {
				return path + ": missing key " + strconv.Quote(k)
			}
			if msg := sameJSON(a.Value, x, path+"."+strconv.Quote(k)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func jsonText(x any) string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(x)
	return b.String()
}

// FuzzFromTOML checks that builtins.fromTOML never panics and fails only
// with evaluation errors, with and without the parse-toml-timestamps
// feature; a document it accepts gives a value that toJSON (or deepSeq)
// can walk.
func FuzzFromTOML(f *testing.F) {
	plain, _ := evaltest.New(f, evaltest.Options{})
	stamps, _ := evaltest.New(f, evaltest.Options{Setup: func(o *eval.Options) {
		o.Features = map[string]bool{"parse-toml-timestamps": true}
	}})
	for _, s := range indentedStrings(f, "testdata/fromTOML.nixl") {
		f.Add(s, false)
		f.Add(s, true)
	}
	if data, err := os.ReadFile("../stdlib/tests/settings.toml"); err == nil {
		f.Add(string(data), false)
	}
	for _, s := range []string{"a = 1979-05-27T07:32:00Z\nb = 07:32:00\nc = 1979-05-27\nd = 1979-05-27T00:32:00.999999", "[[a.b]]\nc = [1, [2.5, inf, nan], {d = 'x'}]\n[a]\n", "x = \"\\u0000\"", "a.b = 1\na = 2"} {
		f.Add(s, false)
		f.Add(s, true)
	}

	f.Fuzz(func(t *testing.T, input string, timestamps bool) {
		e := plain
		if timestamps {
			e = stamps
		}
		if _, err := callBuiltin(e, "fromTOML", input); err != nil {
			checkEvalError(t, input, err)
		}
	})
}
