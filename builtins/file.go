package builtins

var fileBuiltins = []builtin{}
