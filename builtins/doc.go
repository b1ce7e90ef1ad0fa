// Package builtins implements the builtins set of the Nix language: every
// builtin as one row of a table (name, parameters, documentation, Go
// function or constant), grouped by theme in the files of this package
// and assembled by table() in table.go.
//
// Builtins receive their arguments unevaluated and force what they need,
// with the exact messages and trace frames of C++ Nix 2.36 (argument
// errors carry no position, as in Nix). Results Nix leaves lazy stay lazy:
// map's elements, genList's, mapAttrs' values are applications evaluated
// when used.
//
// The documentation strings, written for nixl, are what the REPL's :doc
// and editor hover show (Docs).
//
// Builtins that need the store (derivation, path, toFile, fetchers…) reach
// it only through interfaces (eval.Store and the ones in storeapi.go), so
// the evaluator never depends on the realiser.
package builtins
