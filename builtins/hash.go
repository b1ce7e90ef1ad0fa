package builtins

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

var hashBuiltins = []builtin{
	{name: "hashString", params: []string{"type", "s"}, fn: primHashString,
		doc: "Hashes the bytes of string s with the algorithm named by type (\"md5\", \"sha1\", \"sha256\" or \"sha512\") " +
			"and returns the digest in hexadecimal. The context of s is ignored."},
	{name: "hashFile", params: []string{"type", "p"}, fn: primHashFile,
		doc: "Hashes the contents of the file at path p with the algorithm named by type (\"md5\", \"sha1\", \"sha256\" or \"sha512\") " +
			"and returns the digest in hexadecimal."},
	{name: "convertHash", params: []string{"args"}, fn: primConvertHash,
		doc: "Rewrites a hash in another notation. args is { hash; toHashFormat; hashAlgo ? null; }: " +
			"hash may be hexadecimal, Nix base-32, base64 or SRI, with or without an \"algo:\" prefix; " +
			"hashAlgo names the algorithm when hash does not; toHashFormat is \"base16\", \"nix32\", \"base64\" or \"sri\" " +
			"(\"base32\" is an old name for \"nix32\")."},
}

// usageError is an error Nix reports as a usage error (bad names given
// to options and builtins alike).
func usageError(format string, args ...any) error {
	return eval.Errorf(eval.ErrUsage, lang.NoPos, format, args...)
}

// parseHashAlgorithm reads an algorithm name as Nix does.
func parseHashAlgorithm(e *eval.Eval, name string) (nixhash.Algorithm, error) {
	if name == "blake3" {
		if !e.Features["blake3-hashes"] {
			return 0, eval.Errorf(eval.ErrEval, lang.NoPos, "experimental Nix feature 'blake3-hashes' is disabled; add '--extra-experimental-features blake3-hashes' to enable it")
		}
		return 0, eval.Errorf(eval.ErrEval, lang.NoPos, "hash algorithm 'blake3' is not supported by nixl")
	}
	algo, err := nixhash.ParseAlgorithm(name)
	if err != nil {
		return 0, usageError("unknown hash algorithm '%s', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'", name)
	}
	return algo, nil
}

func primHashString(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "hashString"))
	if err != nil {
		return eval.Value{}, err
	}
	algo, err := parseHashAlgorithm(e, name)
	if err != nil {
		return eval.Value{}, err
	}
	s, _, err := e.ForceString(args[1], lang.NoPos, argCtx(1, "hashString"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.String(nixhash.SumString(algo, s).Encode(nixhash.Base16, false)), nil
}

func primHashFile(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "hashFile"))
	if err != nil {
		return eval.Value{}, err
	}
	algo, err := parseHashAlgorithm(e, name)
	if err != nil {
		return eval.Value{}, err
	}
	path, err := realisePath(e, args[1], lang.NoPos, "while realising the context of a path")
	if err != nil {
		return eval.Value{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return eval.Value{}, hashFileError(path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "file '%s' is not a regular file", path)
	}
	h, _, err := nixhash.SumReader(algo, f)
	if err != nil {
		return eval.Value{}, hashFileError(path, err)
	}
	return eval.String(h.Encode(nixhash.Base16, false)), nil
}

func hashFileError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' does not exist", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return eval.Errorf(eval.ErrEval, lang.NoPos, "reading file '%s': %v", path, err)
}

var (
	symHashHash         = eval.Intern("hash")
	symHashAlgo         = eval.Intern("hashAlgo")
	symHashToHashFormat = eval.Intern("toHashFormat")
)

func primConvertHash(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], lang.NoPos, argCtx(0, "convertHash"))
	if err != nil {
		return eval.Value{}, err
	}
	required := func(sym eval.Sym) (*eval.Attr, error) {
		a := attrs.Get(sym)
		if a == nil {
			err := eval.TypeErrorf(lang.NoPos, "attribute '%s' missing", sym)
			return nil, eval.AddTrace(err, lang.NoPos, "while locating the attribute '%s'", sym)
		}
		return a, nil
	}
	a, err := required(symHashHash)
	if err != nil {
		return eval.Value{}, err
	}
	hash, err := e.ForceStringNoCtx(a.Value, lang.NoPos, "while evaluating the attribute 'hash'")
	if err != nil {
		return eval.Value{}, err
	}
	var algo nixhash.Algorithm
	if a := attrs.Get(symHashAlgo); a != nil {
		name, err := e.ForceStringNoCtx(a.Value, lang.NoPos, "while evaluating the attribute 'hashAlgo'")
		if err != nil {
			return eval.Value{}, err
		}
		if algo, err = parseHashAlgorithm(e, name); err != nil {
			return eval.Value{}, err
		}
	}
	a, err = required(symHashToHashFormat)
	if err != nil {
		return eval.Value{}, err
	}
	formatName, err := e.ForceStringNoCtx(a.Value, lang.NoPos, "while evaluating the attribute 'toHashFormat'")
	if err != nil {
		return eval.Value{}, err
	}
	format, err := parseHashFormat(e, formatName)
	if err != nil {
		return eval.Value{}, err
	}
	h, err := parseAnyHash(e, hash, algo)
	if err != nil {
		return eval.Value{}, err
	}
	return eval.String(h.Encode(format, format == nixhash.SRI)), nil
}

// parseHashFormat reads the name of a hash notation; "base32" still works
// but warns.
func parseHashFormat(e *eval.Eval, name string) (nixhash.Encoding, error) {
	switch name {
	case "base16":
		return nixhash.Base16, nil
	case "nix32":
		return nixhash.NixBase32, nil
	case "base32":
		e.Warn(`"base32" is a deprecated alias for hash format "nix32".`)
		return nixhash.NixBase32, nil
	case "base64":
		return nixhash.Base64, nil
	case "sri":
		return nixhash.SRI, nil
	}
	return 0, usageError("unknown hash format '%s', expect 'base16', 'base32', 'base64', or 'sri'", name)
}

func badHash(format string, args ...any) error {
	return eval.Errorf(eval.ErrUsage, lang.NoPos, format, args...)
}

// parseAnyHash reads a hash in any notation Nix accepts, with Nix's
// messages: "algo:digest" (digest in base16, nix32 or base64, told apart
// by length), "algo-base64" (SRI), or a bare digest when algo is known.
func parseAnyHash(e *eval.Eval, s string, algo nixhash.Algorithm) (nixhash.Hash, error) {
	rest := s
	isSRI := false
	var named nixhash.Algorithm
	prefix, after, found := strings.Cut(rest, ":")
	if !found {
		prefix, after, found = strings.Cut(rest, "-")
		isSRI = found
	}
	if found {
		rest = after
		a, err := parseHashAlgorithm(e, prefix)
		if err != nil {
			return nixhash.Hash{}, err
		}
		named = a
	}
	switch {
	case named == 0 && algo == 0:
		return nixhash.Hash{}, badHash("hash '%s' does not include a type, nor is the type otherwise known from context", s)
	case named != 0 && algo != 0 && named != algo:
		return nixhash.Hash{}, badHash("hash '%s' should have type '%s'", s, algo)
	case named != 0:
		algo = named
	}
	size := algo.Size()
	var digest []byte
	var kind string
	switch {
	case isSRI:
		kind = "SRI"
		digest, _, _ = decodeBase64(rest)
	case len(rest) == 2*size:
		kind = "base16"
		digest, _, _ = decodeBase16(rest)
	case len(rest) == nixhash.Base32EncodedLen(size):
		kind = "nix32"
		digest, _ = nixhash.DecodeBase32(rest)
	case len(rest) == (size+2)/3*4:
		kind = "Base64"
		digest, _, _ = decodeBase64(rest)
	default:
		return nixhash.Hash{}, badHash("hash '%s' has wrong length for hash algorithm '%s'", rest, algo)
	}
	if len(digest) != size {
		return nixhash.Hash{}, badHash("invalid %s hash '%s', length %d != expected length %d", kind, rest, len(digest), size)
	}
	return nixhash.FromSum(algo, digest), nil
}
