// Package stdlib is nixl's standard library, written in the language
// itself and embedded into the binary.
//
// `import <nixl> { }` (with the optional arguments system and toolbox)
// evaluates default.nixl, which returns:
//
//   - lib: pure functions (lib/*.nixl) with the names, arguments,
//     laziness and errors of nixpkgs' lib where the two share a name:
//     trivial, lists, strings, attrsets, fixedPoints, versions, debug,
//     asserts, generators, customisation and meta; every function is
//     also an attribute of lib itself, as in nixpkgs.
//   - toolbox: a static busybox in the store presented as bin/sh,
//     bin/ls, … (build/toolbox.nixl), the shell and tools the builders
//     run with.
//   - builders: writeText, writeTextFile, writeShellScript(Bin),
//     runCommand, symlinkJoin, linkFarm (build/trivial.nixl); fetchurl
//     and fetchTarball (build/fetchers.nixl); mkDerivation with phases
//     (build/make-derivation.nixl); callPackage.
//   - image: the place for the OCI image builders (image/default.nixl).
//
// The files are served to the evaluator through eval.Options.Internal
// (builtins.CorePkgs combines them with Nix's corepkgs under nixl/), and
// builtins.findFile resolves <nixl> and <nixl/…> there when the search
// path has no entry for them, as <nix/…> resolves to corepkgs.
//
// # Doc comments
//
// Every function carries a doc comment, which `nixl doc` and the
// reference in docs/stdlib read (see Docs):
//
//	/**
//	  One-sentence summary.
//
//	  Further paragraphs.
//
//	  Type: name :: argument -> result
//
//	  Example:
//	    name arg
//	    => result
//	*/
//	name = arg: …;
//
// A comment before anything but a binding documents the whole file (the
// module). A comment before `inherit (builtins) a b;` lists builtins the
// module re-exports. Examples are tests: each expression is evaluated
// with the library in scope and compared with the value after =>
// (`=> error: TEXT` expects an error containing TEXT).
//
// The modules are the files listed in docs.go; any other embedded file
// is a module named by its path (image/oci.nixl is image.oci). The
// tests check that every module has a doc comment, every function a
// description and an example, every example holds, every function is
// used in the module's tests/NAME.nixl, and that the reference in
// docs/stdlib is up to date (go test ./stdlib -run DocsReference
// -update rewrites it).
package stdlib
