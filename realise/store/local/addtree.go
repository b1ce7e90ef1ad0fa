package local

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nixl-project/nixl/realise/store"
)

// AddTreeWithReferences adds the tree at srcPath (copied as it is,
// symbolic links included) as a content-addressed "source" path that
// refers to refs, and returns its store path. This is how Nix's
// 'nix profile' adds a profile's symbolic-link tree, whose links point
// into the installed packages: the path is computed from the NAR hash and
// the references (Nix's makeFixedOutputPath for recursive SHA-256 with
// references), so the same tree with the same references is the same
// path. refs must be valid store paths; they are recorded as given and
// are temporary roots of this Store. Adding a path that is already valid
// changes nothing.
func (s *Store) AddTreeWithReferences(name, srcPath string, refs []string) (string, error) {
	if err := store.ValidateStorePathName(name); err != nil {
		return "", err
	}
	refs = slices.Clone(refs)
	slices.Sort(refs)
	refs = slices.Compact(refs)
	refPaths := make([]store.StorePath, 0, len(refs))
	for _, r := range refs {
		p, err := s.parseStorePath(r)
		if err != nil {
			return "", fmt.Errorf("reference of '%s': %w", name, err)
		}
		refPaths = append(refPaths, p)
	}
	if err := s.gc.rlock(); err != nil {
		return "", err
	}
	defer s.gc.runlock()
	// The references must stay valid until the registration commits.
	for _, r := range refs {
		if err := s.addTempRootLocked(r); err != nil {
			return "", err
		}
		if ok, err := s.IsValidPath(r); err != nil {
			return "", err
		} else if !ok {
			return "", fmt.Errorf("cannot add '%s' to the store: it refers to '%s', which is not valid", name, r)
		}
	}
	tmpDir, err := s.newTempDir()
	if err != nil {
		return "", err
	}
	defer removeTree(tmpDir)
	tmp := filepath.Join(tmpDir, "x")
	narHash, narSize, err := copyTree(srcPath, tmp, nil)
	if err != nil {
		return "", err
	}
	sp, err := s.dir.MakeSourcePath(name, narHash, refPaths, false)
	if err != nil {
		return "", err
	}
	info := &PathInfo{
		Path:       s.dir.Path(sp),
		NarHash:    narHash,
		NarSize:    narSize,
		References: refs,
		CA:         "fixed:r:" + narHash.String(),
	}
	_, err = s.install(sp, info, nil, func(dst string) error {
		if err := canonicalise(tmp); err != nil {
			return err
		}
		if err := syncTree(tmpDir); err != nil {
			return err
		}
		return MoveTree(tmp, dst)
	})
	return info.Path, err
}

// MoveTree renames a canonicalised tree into the store (from and to are
// on one file system). Moving a directory to another parent needs write
// permission on it (for its ".." entry) unless one is root, so a
// read-only directory is made writable for the rename and read-only
// again, which keeps its mtime.
func MoveTree(from, to string) error {
	st, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return os.Rename(from, to)
	}
	if err := os.Chmod(from, 0o755); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		os.Chmod(from, st.Mode().Perm())
		return err
	}
	return os.Chmod(to, st.Mode().Perm())
}
