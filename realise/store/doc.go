// Package store holds the building blocks of a Nix store: store path names
// and their content-addressed computation, and the NAR archive format.
// Hashes and their encodings live in package nixhash.
//
// Everything here must agree byte for byte with C++ Nix, because store paths,
// .drv files and NAR dumps are shared with it. The store directory is never
// assumed to be /nix/store: it is a [Dir] value passed explicitly, since it
// is part of every store path fingerprint.
//
// Design notes:
//
//   - [StorePath] is the base name of a store path ("<hash>-<name>") and is
//     only constructed through validating functions, so a StorePath value is
//     always well formed. Its absolute form needs a [Dir].
//   - NAR serialisation streams: file contents flow from disk to the writer
//     through one reusable buffer, so memory use does not depend on file size.
//     NAR parsing is strict and only accepts the canonical encoding Nix writes,
//     which guarantees that restoring and dumping again reproduces the input.
package store
