package builtins

var contextBuiltins = []builtin{}
