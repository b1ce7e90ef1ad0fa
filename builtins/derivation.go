package builtins

var derivationBuiltins = []builtin{}
