// Package signing implements Nix's binary cache keys and the signatures
// of store paths made with them, interchangeably with C++ Nix
// (nix-store --generate-binary-cache-key, nix store sign, the Sig field of
// .narinfo files, the sigs column of the store database, and the
// trusted-public-keys setting).
//
// Keys are Ed25519 (crypto/ed25519, the same scheme as libsodium's
// crypto_sign_detached). A key is written "NAME:BASE64": a secret key
// holds libsodium's 64-byte secret key (the 32-byte seed followed by the
// public key, which is exactly Go's ed25519.PrivateKey), a public key its 32
// bytes. A signature is "NAME:BASE64" of the 64-byte detached signature,
// NAME being the key's name, which is how a verifier finds the key.
//
// What is signed is the fingerprint of a valid path (see [Fingerprint]):
//
//	1;<store path>;<NAR hash as sha256:nixbase32>;<NAR size>;<references, comma-separated>
//
// with the references as sorted absolute store paths, exactly as Nix's
// ValidPathInfo::fingerprint, so a signature made by nixl is accepted by
// Nix and the other way round.
package signing
