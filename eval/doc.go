// Package eval is the lazy evaluator of the Nix language.
//
// # Pipeline
//
// A file is parsed by lang, whose resolver binds every variable to a
// (scope depth, slot) pair the way Nix's bindVars does, falling back to a
// dynamic lookup only for names that can come from a `with`. The compiler
// (compile.go) turns the syntax tree into a tree of code nodes: each node
// knows its constants, its variables' slots and the positions Nix reports
// for it, and evaluates itself with eval(e, env) into a value in weak
// head normal form. Arithmetic and comparison operators whose builtin
// (__sub, __lessThan, …) has not been shadowed are computed inline; when a
// program redefines them they become calls, as in Nix.
//
// # Values
//
// A Value is a 24-byte struct passed by value: a kind, flags, a word and a
// pointer. Integers, floats, Booleans and null live in the word, so
// arithmetic allocates nothing; strings, paths, lists and attribute sets
// keep a data pointer and a length (no header object); functions, builtins
// and thunks point to their object. An attribute set is an array of Attr
// sorted by interned symbol (Sym), so lookup compares integers (linearly
// for small sets, by binary search otherwise) and // is a merge; Nix's
// lexicographic order is only computed for printing and attrNames.
//
// # Laziness
//
// A Thunk holds code and the environment to run it in. Forcing evaluates
// it once, stores the result and drops code and environment, so they can
// be collected (go-jsonnet's cachedThunk); the slot that held the thunk is
// overwritten with the result, so later reads skip the indirection. A
// thunk being evaluated is a black hole: forcing it again is "infinite
// recursion encountered". A failed thunk keeps its error (Nix ≥ 2.34
// memoises errors) and re-raises a copy. Creating a thunk for a constant,
// a function or a variable allocates nothing (Nix's maybeThunk): the value
// or the variable's slot content is shared. A thunk is 32 bytes: its
// state lives in its value's kind, and while pending the value points to
// its code in the compiled tree. Lazy applications built by builtins
// (map's elements…) are one allocation holding the function (packed in
// the value) and the arguments, and are called from where they are
// forced.
//
// # Environments
//
// An Env is one scope at run time (a let, a rec set, a function call's
// arguments, a with's set) and a pointer to the enclosing one. Small
// environments keep their slots inline, so a one-argument call allocates
// one object. A scope records when something that may outlive the running
// code points to it (a thunk, a closure, a captured inner scope); the
// scope of a one-argument call that nothing captured is recycled when the
// call returns, so simple recursions and the callbacks of foldl', sort or
// filter allocate no scopes at all. Curried functions applied to two
// arguments skip the closure in between. Globals (builtins, true, map…)
// are read directly from a table, never through the scope chain.
//
// # Errors
//
// Evaluation returns errors as values (*Error), never panics. An error
// carries Nix's message, position and a trace of frames ("… while calling
// 'f'", "… from call site") added as it propagates; the frames are those
// C++ Nix 2.36 prints, so that traces read the same. Rendering (with the
// elision of repeated frames) is lang.Diagnostic's job.
//
// # Recursion
//
// Nix recursion is Go recursion. The code on the path of a recursive call
// keeps its stack frames small (about 330 bytes per level for a plain
// recursive function), the goroutine stack limit is raised to fit the
// configured max-call-depth (DefaultMaxCallDepth allows a 1,000,000-deep
// non-tail recursion), and the depth of calls and thunk evaluations is
// counted, so a runaway recursion ends with Nix's "max-call-depth
// exceeded" error rather than a Go stack overflow. Walks over nested data
// (deepSeq, ==, <, toString of lists, printing) count their levels too,
// so infinite lazy data ends the same way. As the bytes a level takes
// vary with the path, the stack in use is also measured every 256 levels
// (stack.go), and evaluation ends with "stack overflow (possible
// infinite recursion)" before the Go runtime's fatal limit.
//
// # Limits
//
// Strings and lists built from others (concatenation, interpolation,
// concatStringsSep, replaceStrings, toString, toJSON, ++, concatLists,
// genList) are bounded (MaxStringLength, 1 GiB; MaxListLength, 2^26
// elements), so that repeated doubling fails at once. Options.MaxMemory
// (nixl's --max-memory) is a memory limit: a background watch samples
// the heap every 10 ms and interrupts an evaluation beyond it, which
// fails with ErrMemoryLimit; nothing is added to the evaluation's paths.
// Interrupt (Ctrl-C in the REPL, the LSP's time budget) is checked at
// every call and thunk evaluation, and by builtins that can run long on
// their own (the backtracking regular expression matcher).
//
// # Pure evaluation
//
// With Options.PureEval, reading the file system is limited to allowed
// roots (allowed.go, Nix's allowedPaths): what the caller allows with
// AllowPath (cmd/nixl: the directory of the file named on the command
// line), the search path's directories, the evaluator's internal files,
// and store paths the evaluation holds through a string's context (a
// copied source, an output imported from). CheckPath checks a path as
// written (".." applied) and with its symbolic links resolved, so that
// neither escapes a root; import, the path-to-store copy and every
// reading builtin call it, and pathExists answers false, as in Nix.
//
// # Layering
//
// The evaluator knows nothing of the realiser: the store is the Store
// interface, implemented in realise and connected by cmd/nixl. The
// builtins live in package builtins and are handed to New as a table.
package eval
