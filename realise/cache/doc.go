// Package cache shares store paths between stores, in C++ Nix's formats:
// binary caches (file:// directories and HTTP servers), substitution from
// them into a local store, a server that makes a local store a binary
// cache, and nix-store --export / --import streams.
//
// # Binary caches
//
// A cache holds
//
//	nix-cache-info             StoreDir, WantMassQuery, Priority
//	<HASH>.narinfo             StorePath, URL, Compression, FileHash, FileSize,
//	                           NarHash, NarSize, References, Deriver, Sig, CA
//	nar/<FILEHASH>.nar[.xz|.zst]
//
// where HASH is the hash part of the store path and FILEHASH the nixbase32
// SHA-256 of the (compressed) NAR file. [Cache] reads and writes one: a
// directory (writes go through a temporary file and a rename) or an HTTP
// server (GET, HEAD, and PUT for writing, as Nix's HTTP binary cache store;
// 404, 403 and 410 mean "absent"). [CopyToCache] is nix copy --to: the
// closure, references first, each NAR before its narinfo, signed with a
// [signing.SecretKey] if one is given (the signature is also recorded in
// the local database). Compression is xz (github.com/ulikunitz/xz), zstd
// (github.com/klauspost/compress/zstd) or none; bzip2 is read too.
// [NarInfo.String] renders narinfos exactly as Nix's NarInfo::to_string.
//
// # Substitution
//
// [Substituter] is what the realiser calls to fetch paths instead of
// building them (nix.conf's substituters, trusted-public-keys,
// require-sigs; see [Config] and [ParseConfig] for reading those settings
// from a file):
//
//	sub, err := cfg.NewSubstituter(nil)          // or &Substituter{Caches: …, TrustedKeys: …}
//	found, err := sub.Query(ctx, st.StoreDir(), outputs) // which outputs a cache has
//	added, err := sub.Substitute(ctx, st, outputs)       // fetch them with their closures
//
// Caches are asked in priority order; a narinfo is used only if its store
// directory is the local one and one of its signatures is by a trusted key
// (or the path is content addressed and its store path follows from its CA
// field). The closure is discovered through the narinfos' References and
// fetched with Jobs downloads at once, references before referrers. Each
// NAR is decompressed and restored into a staging directory on the store's
// file system (local.Store.StagingDir, which keeps the garbage collector
// away) while its SHA-256 and size are computed; it must match NarHash and
// NarSize (and FileHash, and the content address, when given). Only then
// is it canonicalised, synced, renamed into place under the path's lock
// and registered with its references, deriver, signatures and CA, so a
// corrupt download or a bad signature never leaves a valid path. A path
// whose download fails is tried with the next cache that has it. Progress
// events (Started, Receiving, Done, Failed) go to a callback.
// [Substituter.ForStore] binds a Substituter to a store as the realiser
// wants it (realise/build's Substituter interface, which this package
// satisfies without importing the realiser).
//
// # Serving
//
// [Server] is an http.Handler serving a local store as a binary cache:
// nix-cache-info, narinfos made on the fly from the database (signed with a
// key if one is given), and NARs dumped from the store as they are sent,
// compressed on the fly or not. NAR URLs are nar/<HASH>-<NARHASH>.nar…, so
// a narinfo never leads to different contents.
//
// # Export streams
//
// [Export] writes nix-store --export's format byte for byte (for each path,
// in Nix's topological order: 1, the NAR, "NIXE", the path, its references,
// its deriver, 0; then 0). [Import] reads it (including Nix's output) and
// registers all its paths in one transaction at the end, so a truncated or
// corrupt stream registers nothing. The format carries no hashes: the NAR
// must be well formed, references must be valid or in the stream, and
// paths that are recognisably content addressed (text paths such as .drv
// files, source paths, flat SHA-256 paths) get their CA recorded.
package cache
