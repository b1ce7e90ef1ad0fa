package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"fmt"
	"strings"
)

// ContentAddressMethod says what a content address hashes: a file's bytes
// (flat), the NAR serialisation of a tree (recursive), or text added with its
// references (text, as for builtins.toFile and .drv files).
type ContentAddressMethod uint8

const (
	FlatMethod ContentAddressMethod = iota
	RecursiveMethod
	TextMethod
)

// Prefix is how the method is written before an algorithm name, as in the
// "r:sha256" hash algorithm field of .drv outputs.
func (m ContentAddressMethod) Prefix() string {
	switch m {
	case RecursiveMethod:
		return "r:"
	case TextMethod:
		return "text:"
	}
	return ""
}

func (m ContentAddressMethod) String() string {
	switch m {
	case FlatMethod:
		return "flat"
	case RecursiveMethod:
		return "recursive"
	case TextMethod:
		return "text"
	}
	return fmt.Sprintf("ContentAddressMethod(%d)", uint8(m))
}

// ParseMethodAlgorithm splits strings such as "sha256", "r:sha1" or
// "text:sha256" into a method and an algorithm.
func ParseMethodAlgorithm(s string) (ContentAddressMethod, nixhash.Algorithm, error) {
	method, rest := FlatMethod, s
	if after, ok := strings.CutPrefix(s, "r:"); ok {
		method, rest = RecursiveMethod, after
	} else if after, ok := strings.CutPrefix(s, "text:"); ok {
		method, rest = TextMethod, after
	}
	algo, err := nixhash.ParseAlgorithm(rest)
	if err != nil {
		return 0, 0, err
	}
	return method, algo, nil
}

// FormatMethodAlgorithm is the inverse of ParseMethodAlgorithm.
func FormatMethodAlgorithm(method ContentAddressMethod, algo nixhash.Algorithm) string {
	return method.Prefix() + algo.String()
}
