package builtins

import (
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// builtinDepthBase is how many calls Nix already has on its stack when a
// serialising builtin starts (the call of the builtin itself and the
// expression around it); they count towards max-call-depth.
const builtinDepthBase = 2

var serialBuiltins = []builtin{
	{name: "toJSON", params: []string{"e"}, fn: primToJSON,
		doc: "Renders e as JSON text. Sets become objects with their keys in sorted order, lists become arrays; " +
			"a set with `__toString` or `outPath` is rendered as what that gives (so a derivation becomes its output path); " +
			"paths are copied to the store and appear as their store path. Functions cannot be rendered. " +
			"The result carries the string contexts of all the strings inside e."},
	{name: "fromJSON", params: []string{"e"}, fn: primFromJSON,
		doc: "Parses the JSON text e into a Nix value: objects become sets, arrays lists; " +
			"numbers without a fraction or exponent become integers (an error if they do not fit in 64 bits), other numbers floats. " +
			"Strings must not contain NUL characters."},
	{name: "toXML", params: []string{"e"}, fn: primToXML,
		doc: "Renders e (evaluated completely) as an XML document, the format of `nix-instantiate --xml`: " +
			"<attrs>, <list>, <string value=\"…\"/>, <int>, <float>, <bool>, <null>, <path>, " +
			"<function> with the argument pattern, and <derivation> for derivations (each shown in full only once)."},
	{name: "fromTOML", params: []string{"e"}, fn: primFromTOML,
		doc: "Parses the TOML document e into a set. Tables become sets, arrays lists. " +
			"Dates and times are an error unless the experimental feature parse-toml-timestamps is on; " +
			"then each becomes { _type = \"timestamp\"; value = \"…\"; }."},
}

func primToJSON(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := encodeJSON(e, args[0], lang.NoPos, true, builtinDepthBase)
	if err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(s, ctx), nil
}

func primFromJSON(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "fromJSON"))
	if err != nil {
		return eval.Value{}, err
	}
	v, syntaxErr, err := parseJSON(s)
	if err != nil {
		return eval.Value{}, err
	}
	if syntaxErr != "" {
		err := eval.Errorf(eval.ErrEval, lang.NoPos, "%s", syntaxErr)
		return eval.Value{}, eval.AddTrace(err, lang.NoPos, "while decoding a JSON string")
	}
	return v, nil
}

func primToXML(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	s, ctx, err := encodeXML(e, args[0], lang.NoPos, true, false, builtinDepthBase)
	if err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(s, ctx), nil
}

// ToJSON renders v as JSON (nix-instantiate --json). Without strict,
// values not evaluated yet cannot be rendered.
func ToJSON(e *eval.Eval, v eval.Value, strict bool) (string, error) {
	if err := e.Force(&v); err != nil {
		return "", err
	}
	s, _, err := encodeJSON(e, v, lang.NoPos, strict, 0)
	return s, err
}

// ToXML renders v as XML (nix-instantiate --xml), without the final
// newline. Without strict, values not evaluated yet show as
// <unevaluated />; with location, attributes and functions carry their
// source positions.
func ToXML(e *eval.Eval, v eval.Value, strict, location bool) (string, error) {
	if err := e.Force(&v); err != nil {
		return "", err
	}
	s, _, err := encodeXML(e, v, lang.NoPos, strict, location, 0)
	if err != nil {
		return "", err
	}
	return s[:len(s)-1], nil
}
