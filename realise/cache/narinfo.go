package cache

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// NarInfo is the contents of a <hash>.narinfo file: what a binary cache
// knows about one store path and where its NAR is.
type NarInfo struct {
	// StorePath is the absolute store path.
	StorePath string
	// URL is where the (compressed) NAR is, relative to the cache.
	URL string
	// Compression is the NAR file's compression: "none", "xz", "zstd",
	// "bzip2" (Nix's default when the field is absent).
	Compression string
	// FileHash and FileSize describe the compressed file; FileHash is the
	// zero Hash when unknown (a NAR compressed on the fly).
	FileHash nixhash.Hash
	FileSize int64
	// NarHash (SHA-256) and NarSize describe the uncompressed NAR.
	NarHash nixhash.Hash
	NarSize int64
	// References are absolute store paths, sorted.
	References []string
	// Deriver is the absolute path of the deriver, or "".
	Deriver string
	System  string
	// Sigs are signatures "NAME:BASE64" of the path's fingerprint.
	Sigs []string
	// CA is the content address as Nix renders it, or "".
	CA string
}

// ParseNarInfo parses a .narinfo file of a cache for the store directory
// dir, as Nix's NarInfo parser does: unknown fields are ignored, StorePath,
// URL, NarHash and a non-zero NarSize are required, and a missing
// Compression means bzip2. whence names the file in errors.
func ParseNarInfo(dir store.Dir, text, whence string) (*NarInfo, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("NAR info file '%s' is corrupt: %s", whence, fmt.Sprintf(format, args...))
	}
	ni := &NarInfo{}
	var haveRefs, haveNarHash bool
	for len(text) > 0 {
		line, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return nil, corrupt("the last line has no newline")
		}
		text = rest
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, corrupt("line '%s' is not 'Name: value'", line)
		}
		switch name {
		case "StorePath":
			p, err := dir.ParsePath(value)
			if err != nil {
				return nil, corrupt("%v", err)
			}
			ni.StorePath = dir.Path(p)
		case "URL":
			ni.URL = value
		case "Compression":
			ni.Compression = value
		case "FileHash":
			h, err := nixhash.ParsePrefixed(value)
			if err != nil {
				return nil, corrupt("FileHash: %v", err)
			}
			ni.FileHash = h
		case "FileSize":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return nil, corrupt("invalid FileSize '%s'", value)
			}
			ni.FileSize = n
		case "NarHash":
			h, err := nixhash.ParsePrefixed(value)
			if err != nil {
				return nil, corrupt("NarHash: %v", err)
			}
			ni.NarHash, haveNarHash = h, true
		case "NarSize":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return nil, corrupt("invalid NarSize '%s'", value)
			}
			ni.NarSize = n
		case "References":
			if haveRefs {
				return nil, corrupt("References appears twice")
			}
			haveRefs = true
			for _, r := range strings.Fields(value) {
				p, err := store.ParseStorePathBase(r)
				if err != nil {
					return nil, corrupt("reference: %v", err)
				}
				ni.References = append(ni.References, dir.Path(p))
			}
		case "Deriver":
			if value != "unknown-deriver" && value != "" {
				p, err := store.ParseStorePathBase(value)
				if err != nil {
					return nil, corrupt("deriver: %v", err)
				}
				ni.Deriver = dir.Path(p)
			}
		case "System":
			ni.System = value
		case "Sig":
			if !slices.Contains(ni.Sigs, value) {
				ni.Sigs = append(ni.Sigs, value)
			}
		case "CA":
			if ni.CA != "" {
				return nil, corrupt("CA appears twice")
			}
			if _, err := parseContentAddress(value); err != nil {
				return nil, corrupt("%v", err)
			}
			ni.CA = value
		}
	}
	if ni.Compression == "" {
		ni.Compression = "bzip2"
	}
	switch {
	case ni.StorePath == "":
		return nil, corrupt("it has no StorePath")
	case !haveNarHash:
		return nil, corrupt("it has no NarHash")
	case ni.URL == "":
		return nil, corrupt("it has no URL")
	case ni.NarSize == 0:
		return nil, corrupt("it has no NarSize")
	case ni.NarHash.Algorithm() != nixhash.SHA256:
		return nil, corrupt("its NarHash is not SHA-256")
	}
	slices.Sort(ni.References)
	ni.References = slices.Compact(ni.References)
	return ni, nil
}

// String renders the narinfo exactly as Nix's NarInfo::to_string: fields
// in Nix's order, references and deriver as base names, signatures sorted.
func (ni *NarInfo) String() string {
	var b strings.Builder
	b.WriteString("StorePath: " + ni.StorePath + "\n")
	b.WriteString("URL: " + ni.URL + "\n")
	b.WriteString("Compression: " + ni.Compression + "\n")
	if !ni.FileHash.IsZero() {
		b.WriteString("FileHash: " + ni.FileHash.String() + "\n")
		b.WriteString("FileSize: " + strconv.FormatInt(ni.FileSize, 10) + "\n")
	}
	b.WriteString("NarHash: " + ni.NarHash.String() + "\n")
	b.WriteString("NarSize: " + strconv.FormatInt(ni.NarSize, 10) + "\n")
	refs := make([]string, len(ni.References))
	for i, r := range ni.References {
		refs[i] = path.Base(r)
	}
	slices.Sort(refs)
	b.WriteString("References: " + strings.Join(refs, " ") + "\n")
	if ni.Deriver != "" {
		b.WriteString("Deriver: " + path.Base(ni.Deriver) + "\n")
	}
	if ni.System != "" {
		b.WriteString("System: " + ni.System + "\n")
	}
	sigs := slices.Clone(ni.Sigs)
	slices.Sort(sigs)
	for _, s := range slices.Compact(sigs) {
		b.WriteString("Sig: " + s + "\n")
	}
	if ni.CA != "" {
		b.WriteString("CA: " + ni.CA + "\n")
	}
	return b.String()
}

// Fingerprint is what signatures of the path cover (see
// signing.Fingerprint).
func (ni *NarInfo) Fingerprint() (string, error) {
	return signing.Fingerprint(ni.StorePath, ni.NarHash, ni.NarSize, ni.References)
}

// Sign adds k's signature of the path's fingerprint and returns it.
func (ni *NarInfo) Sign(k *signing.SecretKey) (string, error) {
	fp, err := ni.Fingerprint()
	if err != nil {
		return "", err
	}
	sig := k.Sign(fp)
	if !slices.Contains(ni.Sigs, sig) {
		ni.Sigs = append(ni.Sigs, sig)
	}
	return sig, nil
}

// Trusted reports whether the path may be substituted with the given
// trusted keys: at least one signature is valid, or the path is content
// addressed and its store path follows from its content address (as Nix's
// ValidPathInfo::checkSignatures; the contents are checked against the
// address after download).
func (ni *NarInfo) Trusted(dir store.Dir, keys signing.Keyring) bool {
	if ni.CA != "" {
		if p, err := caStorePath(dir, ni.StorePath, ni.CA, ni.References); err == nil && p == ni.StorePath {
			return true
		}
	}
	fp, err := ni.Fingerprint()
	if err != nil {
		return false
	}
	return keys.CountValid(fp, ni.Sigs) > 0
}

// PathInfo is what registering the path in a local store records.
func (ni *NarInfo) PathInfo() *local.PathInfo {
	return &local.PathInfo{
		Path:       ni.StorePath,
		NarHash:    ni.NarHash,
		NarSize:    ni.NarSize,
		References: slices.Clone(ni.References),
		Deriver:    ni.Deriver,
		Sigs:       slices.Clone(ni.Sigs),
		CA:         ni.CA,
	}
}

// narInfoFromPathInfo is the narinfo of a local path, without URL,
// compression or file hash.
func narInfoFromPathInfo(info *local.PathInfo) *NarInfo {
	return &NarInfo{
		StorePath:  info.Path,
		NarHash:    info.NarHash,
		NarSize:    info.NarSize,
		References: slices.Clone(info.References),
		Deriver:    info.Deriver,
		Sigs:       slices.Clone(info.Sigs),
		CA:         info.CA,
	}
}

// narInfoName is the name of the narinfo file of a store path.
func narInfoName(storePath string) (string, error) {
	p, err := store.ParseStorePathBase(path.Base(storePath))
	if err != nil {
		return "", err
	}
	return p.HashPart() + ".narinfo", nil
}
