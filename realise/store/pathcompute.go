package store

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/nixl-project/nixl/nixhash"
)

// Store paths are named by a fingerprint of how their contents were
// determined:
//
//	<type>:<algo>:<base16 inner hash>:<store dir>:<name>
//
// hashed with SHA-256, folded to 20 bytes and printed in nixbase32. The
// functions below build the type and inner hash for each kind of path.

// MakeStorePath computes the path for a fingerprint with the given type
// (such as "text", "source" or "output:out") and inner hash.
func (d Dir) MakeStorePath(pathType string, innerHash nixhash.Hash, name string) (StorePath, error) {
	if err := ValidateStorePathName(name); err != nil {
		return StorePath{}, err
	}
	if innerHash.IsZero() {
		return StorePath{}, fmt.Errorf("store path '%s' needs a hash", name)
	}
	var buf [256]byte
	fingerprint := d.appendFingerprintTail(append(buf[:0], pathType...), innerHash, name)
	digest := fingerprintDigest(fingerprint)
	return storePathFromDigest(digest[:], name), nil
}

// appendFingerprintTail completes a fingerprint that holds the path type:
// ":<algo>:<base16 inner hash>:<store dir>:<name>".
func (d Dir) appendFingerprintTail(fingerprint []byte, innerHash nixhash.Hash, name string) []byte {
	fingerprint = append(fingerprint, ':')
	fingerprint = append(fingerprint, innerHash.Algorithm().String()...)
	fingerprint = append(fingerprint, ':')
	fingerprint = innerHash.AppendBase16(fingerprint)
	fingerprint = append(fingerprint, ':')
	fingerprint = append(fingerprint, d...)
	fingerprint = append(fingerprint, ':')
	return append(fingerprint, name...)
}

// fingerprintDigest is the store path hash of a fingerprint: its SHA-256
// folded to 20 bytes.
func fingerprintDigest(fingerprint []byte) [storePathHashBytes]byte {
	var digest [storePathHashBytes]byte
	sum := sha256.Sum256(fingerprint)
	for i, b := range sum {
		digest[i%storePathHashBytes] ^= b
	}
	return digest
}

// absPath is the absolute path in d of the fingerprint's store path, made
// with one allocation: evaluation makes several per derivation.
func (d Dir) absPath(fingerprint []byte, name string) string {
	digest := fingerprintDigest(fingerprint)
	b := make([]byte, 0, len(d)+1+StorePathHashLen+1+len(name))
	b = append(b, d...)
	b = append(b, '/')
	b = nixhash.AppendBase32(b, digest[:])
	b = append(b, '-')
	b = append(b, name...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// OutputPath is the absolute path of MakeOutputPath.
func (d Dir) OutputPath(outputName string, drvHash nixhash.Hash, drvName string) (string, error) {
	name := OutputPathName(drvName, outputName)
	if err := ValidateStorePathName(name); err != nil {
		return "", err
	}
	if drvHash.IsZero() {
		return "", fmt.Errorf("store path '%s' needs a hash", name)
	}
	var buf [256]byte
	fingerprint := append(append(buf[:0], "output:"...), outputName...)
	return d.absPath(d.appendFingerprintTail(fingerprint, drvHash, name), name), nil
}

// TextPath is the absolute path of MakeTextPath, for references given as
// absolute paths (as in .drv files, in canonical form).
func (d Dir) TextPath(name string, contentHash nixhash.Hash, references []string) (string, error) {
	if contentHash.Algorithm() != nixhash.SHA256 {
		return "", fmt.Errorf("text store path '%s' needs a sha256 hash, got %s", name, contentHash.Algorithm())
	}
	if err := ValidateStorePathName(name); err != nil {
		return "", err
	}
	for i := 1; i < len(references); i++ {
		if references[i-1] >= references[i] {
			references = slices.Compact(slices.Sorted(slices.Values(references)))
			break
		}
	}
	var buf [512]byte
	fingerprint := append(buf[:0], "text"...)
	for _, ref := range references {
		if !d.isCanonicalPath(ref) {
			if _, err := d.ParseExactPath(ref); err != nil {
				return "", err
			}
		}
		fingerprint = append(append(fingerprint, ':'), ref...)
	}
	return d.absPath(d.appendFingerprintTail(fingerprint, contentHash, name), name), nil
}

// isCanonicalPath is ParseExactPath's test, without its allocations:
// "<d>/<valid base>".
func (d Dir) isCanonicalPath(abs string) bool {
	if len(abs) <= len(d)+1 || abs[:len(d)] != string(d) || abs[len(d)] != '/' {
		return false
	}
	_, err := ParseStorePathBase(abs[len(d)+1:])
	return err == nil
}

// typeWithReferences appends ":<absolute path>" for each reference, in path
// order and without duplicates, and ":self" for a self-reference. References
// go into the type because the rest of the fingerprint has fixed fields.
func (d Dir) typeWithReferences(pathType string, references []StorePath, selfReference bool) string {
	var b strings.Builder
	b.WriteString(pathType)
	for _, ref := range sortedUniquePaths(references) {
		b.WriteString(":")
		b.WriteString(d.Path(ref))
	}
	if selfReference {
		b.WriteString(":self")
	}
	return b.String()
}

func sortedUniquePaths(paths []StorePath) []StorePath {
	sorted := slices.Clone(paths)
	slices.SortFunc(sorted, func(a, b StorePath) int { return strings.Compare(a.base, b.base) })
	return slices.Compact(sorted)
}

// MakeTextPath computes the path of a text file (builtins.toFile, .drv files)
// from the SHA-256 of its contents and its references.
func (d Dir) MakeTextPath(name string, contentHash nixhash.Hash, references []StorePath) (StorePath, error) {
	if contentHash.Algorithm() != nixhash.SHA256 {
		return StorePath{}, fmt.Errorf("text store path '%s' needs a sha256 hash, got %s", name, contentHash.Algorithm())
	}
	return d.MakeStorePath(d.typeWithReferences("text", references, false), contentHash, name)
}

// ComputeTextPath is MakeTextPath for the given contents.
func (d Dir) ComputeTextPath(name string, contents []byte, references []StorePath) (StorePath, error) {
	return d.MakeTextPath(name, nixhash.Sum(nixhash.SHA256, contents), references)
}

// MakeSourcePath computes the path of a tree added recursively with SHA-256
// (the NAR hash), possibly with references and a reference to itself.
func (d Dir) MakeSourcePath(name string, narHash nixhash.Hash, references []StorePath, selfReference bool) (StorePath, error) {
	if narHash.Algorithm() != nixhash.SHA256 {
		return StorePath{}, fmt.Errorf("source store path '%s' needs a sha256 hash, got %s", name, narHash.Algorithm())
	}
	return d.MakeStorePath(d.typeWithReferences("source", references, selfReference), narHash, name)
}

// MakeFixedOutputPath computes a content-addressed path for contents with a
// known hash, as for fixed-output derivations and nix-store --add-fixed.
// Recursive SHA-256 is a source path and text is a text path; every other
// combination is named by "fixed:out:<method prefix><algo>:<base16>:" and
// cannot have references.
func (d Dir) MakeFixedOutputPath(name string, method ContentAddressMethod, h nixhash.Hash, references []StorePath, selfReference bool) (StorePath, error) {
	if h.IsZero() {
		return StorePath{}, fmt.Errorf("fixed-output path '%s' needs a hash", name)
	}
	switch {
	case method == RecursiveMethod && h.Algorithm() == nixhash.SHA256:
		return d.MakeSourcePath(name, h, references, selfReference)
	case method == TextMethod:
		if selfReference {
			return StorePath{}, fmt.Errorf("text store path '%s' cannot refer to itself", name)
		}
		return d.MakeTextPath(name, h, references)
	case method != FlatMethod && method != RecursiveMethod:
		return StorePath{}, fmt.Errorf("invalid content address method %v", method)
	case len(references) > 0 || selfReference:
		return StorePath{}, fmt.Errorf("fixed-output path '%s' with %s%s cannot have references", name, method.Prefix(), h.Algorithm())
	}
	inner := nixhash.SumString(nixhash.SHA256, "fixed:out:"+method.Prefix()+h.Encode(nixhash.Base16, true)+":")
	return d.MakeStorePath("output:out", inner, name)
}

// OutputPathName is the store path name of a derivation output: the
// derivation name for "out", "<drvName>-<output>" otherwise.
func OutputPathName(drvName, outputName string) string {
	if outputName == "out" {
		return drvName
	}
	return drvName + "-" + outputName
}

// MakeOutputPath computes the path of an output of an input-addressed
// derivation from the derivation's (masked) modulo hash.
func (d Dir) MakeOutputPath(outputName string, drvHash nixhash.Hash, drvName string) (StorePath, error) {
	return d.MakeStorePath("output:"+outputName, drvHash, OutputPathName(drvName, outputName))
}
