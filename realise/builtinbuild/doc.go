// Package builtinbuild implements the builders that Nix runs inside
// itself instead of as a program: derivations whose builder is
// "builtin:NAME". The realiser (package realise/build) finds one with
// [Lookup] and calls it with a [Context] holding the derivation, the
// environment it computed, the output paths to create, a fresh build
// directory and a log; the builder only writes its outputs. The realiser
// then checks fixed-output hashes, canonicalises and registers the
// outputs, as for any other build.
//
// The builders:
//
//   - builtin:fetchurl, as <nix/fetchurl.nix> uses it: download url (http,
//     https or file; redirects followed) into the output; unpack = "1"
//     means the download is a NAR (possibly compressed) restored as the
//     output, executable = "1" makes the output executable. Without url,
//     each of urls is tried in turn. Errors name the URL and the HTTP
//     status. Nix's hashed mirrors and netrc are not supported.
//   - builtin:unpack-tarball: what fetchTarball does, as a builder:
//     unpack the archive at src (or downloaded from url) into the output,
//     stripping a single top-level directory. tar (plain, gzip, xz, bzip2,
//     zstd) and zip are recognised by content; entries escaping the
//     output ("../x", or through a symbolic link) are refused, symbolic
//     links preserved and modes normalised. This builder has no
//     counterpart in C++ Nix.
//   - builtin:unpack-channel: Nix's, for nix-channel: unpack src and
//     rename its single entry to channelName.
//   - builtin:buildenv: Nix's, for profiles: a symbolic-link tree merging
//     packages by priority, with Nix's conflict error, propagated user
//     environment packages and the manifest link; it also takes the
//     attributes of nixpkgs' buildEnv (pkgs, paths, extraPathsFrom,
//     ignoreCollisions).
//
// Downloading and unpacking are those of package realise/fetch, which
// the evaluation-time fetchers use too.
package builtinbuild
