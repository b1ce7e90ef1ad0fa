// Package fetch downloads and unpacks for nixl: the evaluation-time
// fetchers behind builtins.fetchurl, fetchTarball and fetchTree
// ([Fetcher], which implements builtins.Fetcher), and the downloading
// ([Download]) and archive unpacking ([Unpack]) the builtin builders of
// package realise/builtinbuild share.
//
// # Fetching during evaluation
//
// FetchURL downloads a URL (http, https or file) and adds it to the
// store: flat (the file's bytes, SHA-256) for fetchurl, or unpacked and
// recursive (the NAR of the tree, SHA-256) for fetchTarball, where a
// single top-level directory of the archive is stripped. A hash the
// caller pins is checked before anything is added, so a mismatch
// registers nothing and fails with Nix's message:
//
//	hash mismatch in file downloaded from 'URL':
//	  specified: sha256:…
//	  got:       sha256:…
//
// FetchTree does the same for fetchTree inputs of type "file" and
// "tarball" (narHash checked, name "source", lastModified the newest
// entry of a tarball), copies "path" inputs, and fetches "git" inputs
// from repositories on the local file system with the git command.
//
// # The download cache
//
// Each download is recorded in a small JSON file in the cache directory
// (cmd/nixl uses <state dir>/fetch-cache), keyed by kind, URL and name:
// the store path, its hashes, the server's ETag and the time. A recorded
// result whose store path is still valid is used without the network
// when it was pinned to the same hash, or when it is younger than the
// TTL (Nix's tarball-ttl, an hour by default). An older one is
// revalidated with If-None-Match when the server gave an ETag, and
// downloaded again otherwise. The entries are written atomically, so
// concurrent evaluations share the cache safely; they are no garbage
// collector roots, and an entry whose path was collected is ignored.
//
// Pure evaluation's rule that a fetch must be pinned by a hash is the
// builtins' to enforce; the fetcher never needs the network for a pinned
// result it has.
package fetch
