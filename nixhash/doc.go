// Package nixhash implements the hashes Nix uses (md5, sha1, sha256,
// sha512) and every textual form Nix reads and writes them in: base16,
// Nix's own base-32 ("nixbase32"), base64 and SRI, with or without an
// algorithm prefix.
//
// It is a leaf package shared by the builtins (hashString, convertHash)
// and the store (store paths, NAR hashes), so neither depends on the
// other. A [Hash] is a small comparable value (algorithm plus a
// fixed-size digest array): it can be a map key and compared with ==.
package nixhash
