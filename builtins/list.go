package builtins

var listBuiltins = []builtin{}
