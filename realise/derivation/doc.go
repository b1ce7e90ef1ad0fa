// Package derivation implements Nix store derivations: the Derivation value,
// its ATerm serialisation (the contents of .drv files), the derivation hash
// "modulo" fixed-output derivations, and the computation of output paths and
// .drv paths for new derivations as builtins.derivation performs it.
//
// The package knows nothing about the evaluator: it works on plain strings,
// lists and maps, and loads input derivations through a caller-supplied
// [Loader]. All results must match C++ Nix byte for byte.
//
// Design notes:
//
//   - Paths are kept as absolute strings, exactly as they appear in .drv
//     files, so writing a Derivation needs no store directory. Parsing needs
//     one, because it validates every path.
//   - Sets (input sources, output names of input derivations) are slices and
//     maps; the writer sorts and deduplicates, so any Derivation value
//     serialises canonically.
//   - The parser is strict: it accepts exactly the canonical text Nix writes
//     (sorted, duplicate-free, no whitespace, canonical escapes and hashes),
//     so parsing and writing again reproduces the input byte for byte, and
//     anything else is reported with the byte offset of the problem.
//   - Fixed-output derivations hide how their output was obtained: in the
//     hash of a dependent derivation they are replaced by a hash of only
//     their output's content address. That is what "modulo" refers to; see
//     [Hasher].
//
// Creating a derivation as builtins.derivation does takes three steps once
// the evaluator has filled in Name, Platform, Builder, Args, Env and the
// inputs:
//
//  1. [Derivation.SetFixedOutput] (when outputHash is given) or
//     [Hasher.SetInputAddressedOutputs], which fill in Outputs and the
//     output environment variables;
//  2. [Derivation.ComputePath] for the .drv path;
//  3. [Derivation.ATerm] for the file contents.
package derivation
