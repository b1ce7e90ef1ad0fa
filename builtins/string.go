package builtins

var stringBuiltins = []builtin{}
