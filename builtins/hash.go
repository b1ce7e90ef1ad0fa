package builtins

var hashBuiltins = []builtin{}
