package builtins_test

import (
	"strings"
	"testing"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
)

// evalWith evaluates src in an evaluator adjusted by setup.
func evalWith(t *testing.T, setup func(*eval.Options), src string) (*eval.Eval, eval.Value, string, error) {
	t.Helper()
	e, stderr := evaltest.New(t, evaltest.Options{Setup: setup})
	v, err := e.EvalString("«string»", src, t.TempDir())
	return e, v, stderr.String(), err
}

func mustString(t *testing.T, e *eval.Eval, v eval.Value, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if err := e.Force(&v); err != nil {
		t.Fatal(e.Render(err))
	}
	if v.Kind() != eval.KindString {
		t.Fatalf("got %s, want a string", v.TypeName())
	}
	return v.Str()
}

func TestFromTOMLTimestamps(t *testing.T) {
	features := func(o *eval.Options) { o.Features = map[string]bool{"parse-toml-timestamps": true} }
	src := `builtins.toJSON (builtins.fromTOML ''
		odt1 = 1979-05-27T07:32:00Z
		odt2 = 1979-05-27T00:32:00-07:00
		odt3 = 1979-05-27 07:32:00.1234Z
		odt4 = 1979-05-27T07:32:00+05:30
		ldt1 = 1979-05-27T07:32:00
		ldt2 = 1979-05-27t00:32:00.1234567891
		ld = 1979-05-27
		lt1 = 07:32:00
		lt2 = 00:32:00.12
		lt3 = 00:32:00.000001
	'')`
	e, v, _, err := evalWith(t, features, src)
	got := mustString(t, e, v, err)
	want := `{"ld":{"_type":"timestamp","value":"1979-05-27"},` +
		`"ldt1":{"_type":"timestamp","value":"1979-05-27T07:32:00"},` +
		`"ldt2":{"_type":"timestamp","value":"1979-05-27T00:32:00.123456789"},` +
		`"lt1":{"_type":"timestamp","value":"07:32:00"},` +
		`"lt2":{"_type":"timestamp","value":"00:32:00.120"},` +
		`"lt3":{"_type":"timestamp","value":"00:32:00.000001"},` +
		`"odt1":{"_type":"timestamp","value":"1979-05-27T07:32:00Z"},` +
		`"odt2":{"_type":"timestamp","value":"1979-05-27T00:32:00-07:00"},` +
		`"odt3":{"_type":"timestamp","value":"1979-05-27T07:32:00.123400Z"},` +
		`"odt4":{"_type":"timestamp","value":"1979-05-27T07:32:00+05:30"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestConvertHashBase32Warns(t *testing.T) {
	e, v, _, err := evalWith(t, nil, `builtins.convertHash { hash = "md5:900150983cd24fb0d6963f7d28e17f72"; toHashFormat = "base32"; }`)
	if got := mustString(t, e, v, err); got != "3jgzhjhz9zjvbb0kyj7jc500ch" {
		t.Errorf("got %s", got)
	}
	e2, stderr := evaltest.New(t, evaltest.Options{})
	v2, err := e2.EvalString("«string»", `builtins.convertHash { hash = "md5:900150983cd24fb0d6963f7d28e17f72"; toHashFormat = "base32"; }`, t.TempDir())
	mustString(t, e2, v2, err)
	if want := "warning: \"base32\" is a deprecated alias for hash format \"nix32\".\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestBlake3Feature(t *testing.T) {
	features := func(o *eval.Options) { o.Features = map[string]bool{"blake3-hashes": true} }
	e, _, _, err := evalWith(t, features, `builtins.hashString "blake3" "abc"`)
	if err == nil || !strings.Contains(e.Render(err), "blake3") {
		t.Fatalf("expected an error about blake3, got %v", err)
	}
	if strings.Contains(e.Render(err), "experimental Nix feature") {
		t.Errorf("with the feature on, the error must not ask for it:\n%s", e.Render(err))
	}
}

func TestToJSONCLI(t *testing.T) {
	e, v, _, err := evalWith(t, nil, `{ b = [ 1 (1 + 1) ]; a = "x\n"; c = 0.5; }`)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	got, err := builtins.ToJSON(e, v, true)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if want := `{"a":"x\n","b":[1,2],"c":0.5}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	e, v, _, _ = evalWith(t, nil, `x: x`)
	if _, err := builtins.ToJSON(e, v, true); err == nil || !strings.Contains(e.Render(err), "cannot convert a function to JSON") {
		t.Errorf("expected a function error, got %v", err)
	}
}

func TestToXMLCLI(t *testing.T) {
	e, v, _, err := evalWith(t, nil, "{\n  a = 1;\n  f = { x, ... }: x;\n}")
	if err != nil {
		t.Fatal(e.Render(err))
	}
	got, err := builtins.ToXML(e, v, true, true)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	// Positions in an expression given on the command line have no file,
	// so no path attribute; the final newline is left to the caller.
	want := `<?xml version='1.0' encoding='utf-8'?>
<expr>
  <attrs>
    <attr column="3" line="2" name="a">
      <int value="1" />
    </attr>
    <attr column="3" line="3" name="f">
      <function column="7" line="3">
        <attrspat ellipsis="1">
          <attr name="x" />
        </attrspat>
      </function>
    </attr>
  </attrs>
</expr>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got, err = builtins.ToXML(e, v, true, false)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if strings.Contains(got, "line=") {
		t.Errorf("no locations were asked for:\n%s", got)
	}
}

func TestToXMLNotStrict(t *testing.T) {
	e, v, _, err := evalWith(t, nil, `{ a = 1 + 1; b = 3; }`)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	got, err := builtins.ToXML(e, v, false, false)
	if err != nil {
		t.Fatal(e.Render(err))
	}
	if !strings.Contains(got, "<attr name=\"a\">\n      <unevaluated />") || !strings.Contains(got, `<int value="3" />`) {
		t.Errorf("a is not evaluated and b is:\n%s", got)
	}
}

func TestSerialDepthLimit(t *testing.T) {
	depth := func(o *eval.Options) { o.MaxCallDepth = 50 }
	for _, src := range []string{
		`builtins.toXML (let x = { inherit x; }; in x)`,
		`builtins.toJSON (let x = [ x ]; in x)`,
	} {
		e, v, _, err := evalWith(t, depth, src)
		if err == nil {
			err = e.Force(&v)
		}
		if err == nil || !strings.Contains(e.Render(err), "stack overflow; max-call-depth exceeded") {
			t.Errorf("%s: expected a stack overflow, got %v", src, err)
		}
	}
}
