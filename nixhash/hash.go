package nixhash

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"unsafe"
)

// Algorithm identifies one of the hash functions Nix supports. The zero
// value means "no algorithm" and is used where the algorithm is unknown.
type Algorithm uint8

const (
	MD5 Algorithm = iota + 1
	SHA1
	SHA256
	SHA512
)

// maxDigestSize is the largest digest of any supported algorithm (SHA-512).
const maxDigestSize = 64

var hashAlgorithmNames = [...]string{MD5: "md5", SHA1: "sha1", SHA256: "sha256", SHA512: "sha512"}

var hashAlgorithmSizes = [...]int{MD5: md5.Size, SHA1: sha1.Size, SHA256: sha256.Size, SHA512: sha512.Size}

// ParseAlgorithm parses the names Nix uses: md5, sha1, sha256, sha512.
func ParseAlgorithm(name string) (Algorithm, error) {
	for algo, n := range hashAlgorithmNames {
		if n != "" && n == name {
			return Algorithm(algo), nil
		}
	}
	return 0, fmt.Errorf("unknown hash algorithm '%s'", name)
}

func (a Algorithm) valid() bool {
	return a >= MD5 && a <= SHA512
}

// String returns Nix's name for the algorithm.
func (a Algorithm) String() string {
	if !a.valid() {
		return fmt.Sprintf("Algorithm(%d)", uint8(a))
	}
	return hashAlgorithmNames[a]
}

// Size is the digest length in bytes, or 0 for an invalid algorithm.
func (a Algorithm) Size() int {
	if !a.valid() {
		return 0
	}
	return hashAlgorithmSizes[a]
}

// New returns a fresh hasher. It panics on an invalid algorithm, which is a
// programming error: algorithms only come from the constants or parsing.
func (a Algorithm) New() hash.Hash {
	switch a {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	panic(fmt.Sprintf("store: hasher requested for invalid %v", a))
}

func (a Algorithm) base16Len() int { return 2 * a.Size() }

func (a Algorithm) nixBase32Len() int { return Base32EncodedLen(a.Size()) }

func (a Algorithm) base64Len() int { return base64.StdEncoding.EncodedLen(a.Size()) }

// Hash is a digest together with the algorithm that produced it. The zero
// Hash has no algorithm; see IsZero.
type Hash struct {
	algorithm Algorithm
	digest    [maxDigestSize]byte
}

// New wraps a digest, checking that its length fits the algorithm.
func New(algo Algorithm, digest []byte) (Hash, error) {
	if !algo.valid() {
		return Hash{}, fmt.Errorf("invalid hash algorithm %v", algo)
	}
	if len(digest) != algo.Size() {
		return Hash{}, fmt.Errorf("%s digest must be %d bytes, got %d", algo, algo.Size(), len(digest))
	}
	h := Hash{algorithm: algo}
	copy(h.digest[:], digest)
	return h, nil
}

// FromSum builds a Hash from a digest known to have the right length
// (the Sum of algo's hash.Hash).
func FromSum(algo Algorithm, sum []byte) Hash {
	h := Hash{algorithm: algo}
	copy(h.digest[:], sum)
	return h
}

// Sum hashes data in one go, without allocating: store paths and
// derivation hashes call it many times per evaluated derivation.
func Sum(algo Algorithm, data []byte) Hash {
	h := Hash{algorithm: algo}
	switch algo {
	case MD5:
		d := md5.Sum(data)
		copy(h.digest[:], d[:])
	case SHA1:
		d := sha1.Sum(data)
		copy(h.digest[:], d[:])
	case SHA256:
		d := sha256.Sum256(data)
		copy(h.digest[:], d[:])
	case SHA512:
		d := sha512.Sum512(data)
		copy(h.digest[:], d[:])
	default:
		algo.New() // panics: an invalid algorithm is a programming error
	}
	return h
}

// SumString hashes the bytes of s.
func SumString(algo Algorithm, s string) Hash {
	// The hash functions only read the bytes; copying them is waste.
	return Sum(algo, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// SumReader hashes everything r yields and reports how many bytes that was.
func SumReader(algo Algorithm, r io.Reader) (Hash, int64, error) {
	hasher := algo.New()
	n, err := io.CopyBuffer(hasher, r, make([]byte, readBufferSize))
	if err != nil {
		return Hash{}, n, err
	}
	return FromSum(algo, hasher.Sum(nil)), n, nil
}

// Algorithm returns the hash algorithm (zero for the zero Hash).
func (h Hash) Algorithm() Algorithm { return h.algorithm }

// Digest returns a copy of the raw digest bytes.
func (h Hash) Digest() []byte {
	return append([]byte(nil), h.digest[:h.algorithm.Size()]...)
}

// CopyDigest copies the digest into dst, like copy, without the
// allocation that slicing a Hash value's digest costs.
func (h Hash) CopyDigest(dst []byte) int { return copy(dst, h.digest[:h.algorithm.Size()]) }

// IsZero reports whether h is the zero Hash (no algorithm). A hash whose
// digest is all zero bytes, as Nix uses for placeholder hashes, is not zero.
func (h Hash) IsZero() bool { return h.algorithm == 0 }

func (h Hash) digestBytes() []byte { return h.digest[:h.algorithm.Size()] }

// Encoding selects a textual form of a digest.
type Encoding uint8

const (
	Base16 Encoding = iota
	NixBase32
	Base64
	// SRI is "<algorithm>-<base64>" and always includes the algorithm.
	SRI
)

// Encode renders the digest. With withAlgorithm, non-SRI forms are prefixed by
// "<algorithm>:", matching Nix's Hash::to_string.
func (h Hash) Encode(enc Encoding, withAlgorithm bool) string {
	var body string
	switch enc {
	case Base16:
		body = hex.EncodeToString(h.digestBytes())
	case NixBase32:
		body = EncodeBase32(h.digestBytes())
	case Base64, SRI:
		body = base64.StdEncoding.EncodeToString(h.digestBytes())
	default:
		panic(fmt.Sprintf("store: invalid hash encoding %d", enc))
	}
	switch {
	case enc == SRI:
		return h.algorithm.String() + "-" + body
	case withAlgorithm:
		return h.algorithm.String() + ":" + body
	}
	return body
}

// Base16 is the lowercase hexadecimal digest.
func (h Hash) Base16() string { return h.Encode(Base16, false) }

// Compare orders hashes by algorithm, then digest bytes (so by their
// base-16 text for one algorithm).
func (h Hash) Compare(o Hash) int {
	if h.algorithm != o.algorithm {
		return int(h.algorithm) - int(o.algorithm)
	}
	return bytes.Compare(h.digestBytes(), o.digestBytes())
}

// AppendBase16 appends the base-16 digest to b, for callers that build
// fingerprints without intermediate strings.
func (h Hash) AppendBase16(b []byte) []byte { return hex.AppendEncode(b, h.digestBytes()) }

// NixBase32 is the digest in Nix's base-32.
func (h Hash) NixBase32() string { return h.Encode(NixBase32, false) }

// Base64 is the padded standard base64 digest.
func (h Hash) Base64() string { return h.Encode(Base64, false) }

// SRI is the Subresource Integrity form, e.g. "sha256-47DEQpj8…=".
func (h Hash) SRI() string { return h.Encode(SRI, true) }

// String is "<algorithm>:<nixbase32>", the form Nix prints by default.
func (h Hash) String() string {
	if h.IsZero() {
		return "<no hash>"
	}
	return h.Encode(NixBase32, true)
}

// Compress folds the digest into size bytes by XOR-ing byte i into
// position i mod size. Store path hashes are SHA-256 compressed to 20 bytes.
func Compress(h Hash, size int) []byte {
	if size <= 0 {
		return []byte{}
	}
	out := make([]byte, size)
	for i, b := range h.digestBytes() {
		out[i%size] ^= b
	}
	return out
}

// readBufferSize is the chunk size for hashing readers: large enough that
// per-call overhead vanishes next to the hashing itself.
const readBufferSize = 1 << 20
