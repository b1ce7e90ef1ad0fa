package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// contentAddress is a parsed CA field: "text:sha256:…", "fixed:r:ALGO:…"
// or "fixed:ALGO:…".
type contentAddress struct {
	method store.ContentAddressMethod
	hash   nixhash.Hash
}

func parseContentAddress(s string) (contentAddress, error) {
	bad := fmt.Errorf("invalid content address '%s'", s)
	switch {
	case strings.HasPrefix(s, "text:"):
		h, err := nixhash.ParsePrefixed(strings.TrimPrefix(s, "text:"))
		if err != nil || h.Algorithm() != nixhash.SHA256 {
			return contentAddress{}, bad
		}
		return contentAddress{store.TextMethod, h}, nil
	case strings.HasPrefix(s, "fixed:r:"):
		h, err := nixhash.ParsePrefixed(strings.TrimPrefix(s, "fixed:r:"))
		if err != nil {
			return contentAddress{}, bad
		}
		return contentAddress{store.RecursiveMethod, h}, nil
	case strings.HasPrefix(s, "fixed:"):
		h, err := nixhash.ParsePrefixed(strings.TrimPrefix(s, "fixed:"))
		if err != nil {
			return contentAddress{}, bad
		}
		return contentAddress{store.FlatMethod, h}, nil
	}
	return contentAddress{}, bad
}

// caStorePath computes the store path that the content address ca, the
// name of storePath and references give.
func caStorePath(dir store.Dir, storePath, ca string, references []string) (string, error) {
	c, err := parseContentAddress(ca)
	if err != nil {
		return "", err
	}
	self, err := dir.ParsePath(storePath)
	if err != nil {
		return "", err
	}
	var refs []store.StorePath
	selfRef := false
	for _, r := range references {
		if r == storePath {
			selfRef = true
			continue
		}
		p, err := dir.ParsePath(r)
		if err != nil {
			return "", err
		}
		refs = append(refs, p)
	}
	var p store.StorePath
	if c.method == store.TextMethod {
		if selfRef {
			return "", errors.New("a text path cannot refer to itself")
		}
		p, err = dir.MakeTextPath(self.Name(), c.hash, refs)
	} else {
		p, err = dir.MakeFixedOutputPath(self.Name(), c.method, c.hash, refs, selfRef)
	}
	if err != nil {
		return "", err
	}
	return dir.Path(p), nil
}

// checkContentAddress verifies that the tree at tree (restored, not yet
// renamed into place) has the content address ca, whose NAR hash is
// narHash.
func checkContentAddress(tree, storePath, ca string, narHash nixhash.Hash) error {
	c, err := parseContentAddress(ca)
	if err != nil {
		return err
	}
	var got nixhash.Hash
	switch c.method {
	case store.RecursiveMethod:
		if c.hash.Algorithm() == nixhash.SHA256 {
			got = narHash
		} else if got, _, err = store.HashPath(c.hash.Algorithm(), tree, nil); err != nil {
			return err
		}
	default: // flat and text: the bytes of a regular file
		info, err := os.Lstat(tree)
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("path '%s' has content address '%s' but is not a regular file", storePath, ca)
		}
		f, err := os.Open(tree)
		if err != nil {
			return err
		}
		got, _, err = nixhash.SumReader(c.hash.Algorithm(), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if got != c.hash {
		return fmt.Errorf("path '%s' does not match its content address '%s': its contents hash to %s", storePath, ca, got)
	}
	return nil
}

// guessContentAddress returns the content address of an imported path
// whose store path shows it is content addressed (a text path such as a
// .drv, a source path, or a flat SHA-256 path), or "" if it is not
// recognisably so. contents is the restored tree.
func guessContentAddress(dir store.Dir, storePath string, references []string, narHash nixhash.Hash, tree string) string {
	try := func(ca string) bool {
		p, err := caStorePath(dir, storePath, ca, references)
		return err == nil && p == storePath
	}
	if ca := "fixed:r:" + narHash.String(); try(ca) {
		return ca
	}
	info, err := os.Lstat(tree)
	if err != nil || !info.Mode().IsRegular() {
		return ""
	}
	f, err := os.Open(tree)
	if err != nil {
		return ""
	}
	defer f.Close()
	h, _, err := nixhash.SumReader(nixhash.SHA256, io.Reader(f))
	if err != nil {
		return ""
	}
	for _, ca := range []string{"text:" + h.String(), "fixed:" + h.String()} {
		if try(ca) {
			return ca
		}
	}
	return ""
}
