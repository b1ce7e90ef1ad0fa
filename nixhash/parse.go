package nixhash

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Parse accepts every textual hash form Nix accepts (Hash::parseAny):
//
//	<algo>:<digest>   digest in base16, nixbase32 or base64, told apart by length
//	<algo>-<base64>   SRI
//	<digest>          only when expected names the algorithm
//
// expected may be 0 when the algorithm is not known from context; otherwise
// an algorithm named in s must agree with it.
func Parse(s string, expected Algorithm) (Hash, error) {
	named, rest, isSRI, err := splitHashAlgorithm(s)
	if err != nil {
		return Hash{}, err
	}
	switch {
	case named == 0 && expected == 0:
		return Hash{}, fmt.Errorf("hash '%s' does not include a type, nor is the type otherwise known from context", s)
	case named != 0 && expected != 0 && named != expected:
		return Hash{}, fmt.Errorf("hash '%s' should have type '%s'", s, expected)
	case named == 0:
		named = expected
	}
	return decodeDigest(rest, named, isSRI)
}

// ParsePrefixed is Parse for strings that must name their algorithm,
// either as "<algo>:" or in SRI form (Hash::parseAnyPrefixed).
func ParsePrefixed(s string) (Hash, error) {
	named, rest, isSRI, err := splitHashAlgorithm(s)
	if err != nil {
		return Hash{}, err
	}
	if named == 0 {
		return Hash{}, fmt.Errorf("hash '%s' does not include a type", s)
	}
	return decodeDigest(rest, named, isSRI)
}

// ParseUnprefixed parses a bare base16, nixbase32 or base64 digest of the
// given algorithm (Hash::parseNonSRIUnprefixed), as found in .drv files.
func ParseUnprefixed(s string, algo Algorithm) (Hash, error) {
	if !algo.valid() {
		return Hash{}, fmt.Errorf("invalid hash algorithm %v", algo)
	}
	return decodeDigest(s, algo, false)
}

// ParseSRI parses only the "<algo>-<base64>" form.
func ParseSRI(s string) (Hash, error) {
	name, rest, ok := strings.Cut(s, "-")
	if !ok {
		return Hash{}, fmt.Errorf("hash '%s' is not SRI", s)
	}
	algo, err := ParseAlgorithm(name)
	if err != nil {
		return Hash{}, err
	}
	return decodeDigest(rest, algo, true)
}

// splitHashAlgorithm separates a leading "<algo>:" or, failing that,
// "<algo>-" (which marks SRI). An unknown algorithm name is an error.
func splitHashAlgorithm(s string) (algo Algorithm, rest string, isSRI bool, err error) {
	name, rest, found := strings.Cut(s, ":")
	if !found {
		name, rest, found = strings.Cut(s, "-")
		isSRI = found
	}
	if !found {
		return 0, s, false, nil
	}
	algo, err = ParseAlgorithm(name)
	return algo, rest, isSRI, err
}

// decodeDigest picks the encoding from the length of s, as Nix does: the
// base16, nixbase32 and base64 lengths differ for every algorithm. SRI digests
// are always base64.
func decodeDigest(s string, algo Algorithm, isSRI bool) (Hash, error) {
	switch {
	case !isSRI && len(s) == algo.base16Len():
		digest, err := hex.DecodeString(s)
		if err != nil {
			return Hash{}, fmt.Errorf("invalid base-16 hash '%s'", s)
		}
		return FromSum(algo, digest), nil
	case !isSRI && len(s) == algo.nixBase32Len():
		digest, err := DecodeBase32(s)
		if err != nil {
			return Hash{}, fmt.Errorf("invalid base-32 hash '%s'", s)
		}
		return FromSum(algo, digest), nil
	case isSRI || len(s) == algo.base64Len():
		kind := "base-64"
		if isSRI {
			kind = "SRI"
		}
		digest, err := decodeBase64Leniently(s)
		if err != nil || len(digest) != algo.Size() {
			return Hash{}, fmt.Errorf("invalid %s hash '%s'", kind, s)
		}
		return FromSum(algo, digest), nil
	}
	return Hash{}, fmt.Errorf("hash '%s' has wrong length for hash type '%s'", s, algo)
}

// decodeBase64Leniently accepts standard base64 with or without padding;
// Nix's decoder stops at the first '=' and so accepts both.
func decodeBase64Leniently(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
