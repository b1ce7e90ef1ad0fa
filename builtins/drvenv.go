package builtins

import (
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// The __json variable of derivations with __structuredAttrs: the
// attributes as JSON in the exact form Nix writes (keys sorted by bytes,
// no spaces, the JSON library's escapes and number formatting), because
// the text is part of the .drv file and so of every output path. Each
// attribute is converted as builtins.toJSON converts values (json.go).

// drvJSONDepthBase is how many calls Nix typically has on its stack when
// derivationStrict converts an attribute: forcing the result of
// `derivation` deeply, then its outPath, then the derivationStrict call.
// They count towards max-call-depth.
const drvJSONDepthBase = 4

// drvJSON converts one attribute value, adding its string contexts to ctx.
func drvJSON(e *eval.Eval, v eval.Value, ctx *eval.ContextBuilder) (string, error) {
	s, c, err := encodeJSON(e, v, lang.NoPos, true, drvJSONDepthBase)
	if err != nil {
		return "", err
	}
	ctx.Add(c)
	return s, nil
}

// drvJSONObject accumulates the top-level object, key by key in
// lexicographic order.
type drvJSONObject struct {
	b       []byte
	utf8Err string
}

func (o *drvJSONObject) add(key, value string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	if o.utf8Err == "" {
		o.utf8Err = checkJSONUTF8(key)
	}
	o.b = appendJSONString(o.b, key)
	o.b = append(o.b, ':')
	o.b = append(o.b, value...)
}

// dump finishes the object, checking (as Nix's JSON library does when it
// writes) that every string is valid UTF-8.
func (o *drvJSONObject) dump() (string, error) {
	if o.utf8Err != "" {
		return "", eval.Errorf(eval.ErrEval, lang.NoPos, "[json.exception.type_error.316] %s", o.utf8Err)
	}
	if len(o.b) == 0 {
		return "{}", nil
	}
	return string(append(o.b, '}')), nil
}

// drvCanonicalJSON parses the text of a __json attribute and writes it
// back in the canonical form, as Nix stores structured attributes given
// that (deprecated) way.
func drvCanonicalJSON(e *eval.Eval, s string) (string, error) {
	v, syntaxErr, err := parseJSON(s)
	if err == nil && syntaxErr != "" {
		err = eval.Errorf(eval.ErrEval, lang.NoPos, "%s", syntaxErr)
	}
	if err != nil {
		msg := err.Error()
		return "", eval.Errorf(eval.ErrEval, lang.NoPos, "cannot process __json attribute: %s", msg)
	}
	text, _, err := encodeJSON(e, v, lang.NoPos, true, 0)
	return text, err
}
