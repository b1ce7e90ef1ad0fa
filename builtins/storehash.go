package builtins

import (
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

// Hashes given to the store builtins (outputHash, the sha256 of
// builtins.path and fetchurl…), parsed as Nix 2.36 parses them, with its
// error messages.

// storeHashAllowEmpty parses a hash whose algorithm is algoName ("" when
// unknown) unless the string names its own. An empty string stands for
// the all-zero hash of algoName, with a warning.
func storeHashAllowEmpty(e *eval.Eval, s, algoName string) (nixhash.Hash, error) {
	var algo nixhash.Algorithm
	if algoName != "" {
		a, err := nixhash.ParseAlgorithm(algoName)
		if err != nil {
			return nixhash.Hash{}, storeHashError("unknown hash algorithm '%s', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'", algoName)
		}
		algo = a
	}
	if s == "" {
		if algo == 0 {
			return nixhash.Hash{}, storeHashError("empty hash requires explicit hash algorithm")
		}
		h, _ := nixhash.New(algo, make([]byte, algo.Size()))
		e.Warn("found empty hash, assuming '" + h.SRI() + "'")
		return h, nil
	}
	return storeHashParseAny(s, algo)
}

// storeHashParseAny parses "<algo>:<digest>", SRI "<algo>-<base64>", or a
// bare digest of algorithm expected; the encoding of a digest is told by
// its length.
func storeHashParseAny(original string, expected nixhash.Algorithm) (nixhash.Hash, error) {
	rest := original
	var named nixhash.Algorithm
	isSRI := false
	prefix, after, found := strings.Cut(rest, ":")
	if !found {
		prefix, after, found = strings.Cut(rest, "-")
		isSRI = found
	}
	if found {
		if prefix == "blake3" {
			return nixhash.Hash{}, storeHashError("BLAKE3 hashes are not supported by nixl yet")
		}
		a, err := nixhash.ParseAlgorithm(prefix)
		if err != nil {
			return nixhash.Hash{}, storeHashError("unknown hash algorithm '%s', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'", prefix)
		}
		named, rest = a, after
	}
	switch {
	case named == 0 && expected == 0:
		return nixhash.Hash{}, storeHashError("hash '%s' does not include a type, nor is the type otherwise known from context", original)
	case named != 0 && expected != 0 && named != expected:
		return nixhash.Hash{}, storeHashError("hash '%s' should have type '%s'", original, expected)
	case named == 0:
		named = expected
	}
	size := named.Size()
	var digest []byte
	var encoding string
	var err error
	switch {
	case isSRI:
		encoding = "SRI"
		digest, err = storeDecode(decodeBase64, "Base64", rest)
	case len(rest) == 2*size:
		encoding = "base16"
		digest, err = storeDecode(decodeBase16, "Base16", rest)
	case len(rest) == (size*8-1)/5+1:
		encoding = "nix32"
		digest, err = storeDecodeNix32(rest)
	case len(rest) == ((4*size/3)+3)&^3:
		encoding = "Base64"
		digest, err = storeDecode(decodeBase64, "Base64", rest)
	default:
		return nixhash.Hash{}, storeHashError("hash '%s' has wrong length for hash algorithm '%s'", rest, named)
	}
	if err != nil {
		return nixhash.Hash{}, err
	}
	if len(digest) != size {
		return nixhash.Hash{}, storeHashError("invalid %s hash '%s', length %d != expected length %d", encoding, rest, len(digest), size)
	}
	return nixhash.New(named, digest)
}

func storeHashError(format string, args ...any) error {
	return eval.Errorf(eval.ErrEval, lang.NoPos, format, args...)
}

const storeNix32Digits = "0123456789abcdfghijklmnpqrsvwxyz"

// storeDecodeNix32 decodes Nix's base-32, whose last character holds the
// lowest bits.
func storeDecodeNix32(s string) ([]byte, error) {
	out := make([]byte, (len(s)*5+7)/8)
	for n := 0; n < len(s); n++ {
		c := s[len(s)-n-1]
		d := strings.IndexByte(storeNix32Digits, c)
		if d < 0 {
			return nil, storeHashError("invalid character in Nix32 (Nix's Base32 variation) string: '%c'", c)
		}
		b := n * 5
		i, j := b/8, uint(b%8)
		out[i] |= byte(d << j)
		if carry := d >> (8 - j); carry != 0 {
			if i+1 >= len(out) {
				out = append(out, 0)
			}
			out[i+1] |= byte(carry)
		}
	}
	// The encoded length can hold a few more bits than the digest: they
	// must be zero.
	size := len(s) * 5 / 8
	for _, x := range out[size:] {
		if x != 0 {
			return out, nil
		}
	}
	return out[:size], nil
}

// storeDecode decodes with decode, in the words of Nix's store layer when
// a character is not a digit.
func storeDecode(decode func(string) ([]byte, byte, bool), encoding, s string) ([]byte, error) {
	out, bad, ok := decode(s)
	if !ok {
		return nil, storeHashError("invalid character in %s string: '%c'", encoding, bad)
	}
	return out, nil
}
