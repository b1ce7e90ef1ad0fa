package builtins

var fetchBuiltins = []builtin{}
