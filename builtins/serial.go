package builtins

import (
	"errors"

	"github.com/nixl-project/nixl/eval"
)

var serialBuiltins = []builtin{}

// ToJSON renders v as JSON (nix-instantiate --json).
func ToJSON(e *eval.Eval, v eval.Value, strict bool) (string, error) {
	return "", errors.New("--json is not implemented yet")
}

// ToXML renders v as XML (nix-instantiate --xml).
func ToXML(e *eval.Eval, v eval.Value, strict, location bool) (string, error) {
	return "", errors.New("--xml is not implemented yet")
}
