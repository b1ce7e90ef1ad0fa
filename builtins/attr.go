package builtins

var attrBuiltins = []builtin{}
