package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"fmt"
	"path"
	"strings"
)

const (
	// StorePathHashLen is the length of the nixbase32 hash part of a store
	// path: 20 bytes (160 bits) encode to 32 characters.
	StorePathHashLen   = 32
	storePathHashBytes = 20

	// MaxStorePathNameLen leaves room for the hash part and temporary
	// suffixes within the usual 255-byte file name limit.
	MaxStorePathNameLen = 211

	// DrvExtension ends the names of store derivations.
	DrvExtension = ".drv"
)

// StorePath is the base name "<hash>-<name>" of a path in some store
// directory. The zero value is not a valid path; valid values only come from
// the constructors and parsers below. StorePaths order (and compare) like their
// base names, which is the order Nix uses for sets of paths.
type StorePath struct {
	base string
}

// NewStorePath combines a nixbase32 hash part and a name.
func NewStorePath(hashPart, name string) (StorePath, error) {
	return ParseStorePathBase(hashPart + "-" + name)
}

// ParseStorePathBase parses a base name such as
// "vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo".
func ParseStorePathBase(base string) (StorePath, error) {
	if len(base) < StorePathHashLen+1 {
		return StorePath{}, fmt.Errorf("'%s' is too short to be a valid store path", base)
	}
	for i := 0; i < StorePathHashLen; i++ {
		if !nixhash.IsBase32Digit(base[i]) {
			return StorePath{}, fmt.Errorf("store path '%s' contains illegal base-32 character '%c'", base, base[i])
		}
	}
	if base[StorePathHashLen] != '-' {
		return StorePath{}, fmt.Errorf("store path '%s' lacks the '-' between hash and name", base)
	}
	if err := checkName(base, base[StorePathHashLen+1:]); err != nil {
		return StorePath{}, err
	}
	return StorePath{base: base}, nil
}

// storePathFromDigest builds a path from a 20-byte digest and a name that the
// caller has already validated.
func storePathFromDigest(digest []byte, name string) StorePath {
	return StorePath{base: nixhash.EncodeBase32(digest) + "-" + name}
}

// ValidateStorePathName checks a name as Nix does for the part after the
// hash, and additionally rejects names starting with '.', so that "." and ".."
// (and hidden files) can never be store path names.
func ValidateStorePathName(name string) error {
	return checkName(name, name)
}

func checkName(subject, name string) error {
	if name == "" {
		return fmt.Errorf("store path '%s' has an empty name", subject)
	}
	if len(name) > MaxStorePathNameLen {
		return fmt.Errorf("store path '%s' has a name longer than %d characters", subject, MaxStorePathNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("store path '%s' has a name starting with '.'", subject)
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return fmt.Errorf("store path '%s' contains illegal character '%c'", subject, name[i])
		}
	}
	return nil
}

func isNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("+-._?=", c) >= 0
}

// String returns the base name "<hash>-<name>".
func (p StorePath) String() string { return p.base }

// IsZero reports whether p is the zero (invalid) StorePath.
func (p StorePath) IsZero() bool { return p.base == "" }

// HashPart is the 32-character nixbase32 hash.
func (p StorePath) HashPart() string {
	if p.IsZero() {
		return ""
	}
	return p.base[:StorePathHashLen]
}

// Name is the part after the hash and the dash.
func (p StorePath) Name() string {
	if p.IsZero() {
		return ""
	}
	return p.base[StorePathHashLen+1:]
}

// IsDerivation reports whether the name ends in ".drv".
func (p StorePath) IsDerivation() bool {
	return strings.HasSuffix(p.Name(), DrvExtension)
}

// Dir is a store directory such as "/nix/store". It is part of every store
// path fingerprint, so paths computed for different directories differ.
type Dir string

// DefaultDir is the conventional store directory.
const DefaultDir Dir = "/nix/store"

// Validate checks that d is an absolute, clean path other than "/".
func (d Dir) Validate() error {
	s := string(d)
	if !path.IsAbs(s) || path.Clean(s) != s || s == "/" {
		return fmt.Errorf("store directory '%s' must be a clean absolute path other than '/'", s)
	}
	return nil
}

// Path returns the absolute path of p in d.
func (d Dir) Path(p StorePath) string {
	return string(d) + "/" + p.base
}

// ParsePath parses an absolute path that must name an entry directly inside
// d, after cleaning as Nix's canonPath does ("//", "." and a trailing slash).
func (d Dir) ParsePath(abs string) (StorePath, error) {
	if !path.IsAbs(abs) {
		return StorePath{}, fmt.Errorf("path '%s' is not in the Nix store", abs)
	}
	clean := path.Clean(abs)
	if path.Dir(clean) != string(d) {
		return StorePath{}, fmt.Errorf("path '%s' is not in the Nix store", clean)
	}
	return ParseStorePathBase(path.Base(clean))
}

// ParseExactPath is ParsePath for text that must already be in canonical
// form, such as paths in .drv files, so that printing the result reproduces
// the input byte for byte.
func (d Dir) ParseExactPath(abs string) (StorePath, error) {
	p, err := d.ParsePath(abs)
	if err != nil {
		return StorePath{}, err
	}
	if d.Path(p) != abs {
		return StorePath{}, fmt.Errorf("store path '%s' is not in canonical form", abs)
	}
	return p, nil
}
