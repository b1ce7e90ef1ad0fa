package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/nixl-project/nixl/realise/store/local"
)

// installer puts paths into a local store the way substituting and
// importing need: each tree is restored into a private staging directory
// on the store's file system (local.Store.StagingDir, which also keeps the
// garbage collector away), canonicalised and synced; then, under the
// paths' locks, the trees are renamed into place and registered in one
// transaction. A path is never visible as valid before its contents are
// complete, checked and durable, and a failure registers nothing.
type installer struct {
	st      *local.Store
	staging string
	release func()
	seq     atomic.Int64
}

// staged is a restored tree waiting to be installed as info.Path.
type staged struct {
	tree string
	info *local.PathInfo
}

func newInstaller(st *local.Store) (*installer, error) {
	dir, release, err := st.StagingDir()
	if err != nil {
		return nil, err
	}
	return &installer{st: st, staging: dir, release: release}, nil
}

// close removes the staging directory and what is left in it.
func (in *installer) close() { in.release() }

// newTree returns a fresh name in the staging directory for one tree.
func (in *installer) newTree() string {
	return filepath.Join(in.staging, strconv.FormatInt(in.seq.Add(1), 10))
}

// prepare canonicalises a restored tree (modes, mtimes) so it can be
// renamed into the store.
func (in *installer) prepare(tree string) error {
	return local.Canonicalise(tree)
}

// commit installs items and registers them in one transaction, returning
// the paths it made valid (paths that became valid meanwhile by other
// means are left alone). References of the items must be valid or among
// them.
func (in *installer) commit(items []staged) ([]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = it.info.Path
		if err := in.st.AddTempRoot(it.info.Path); err != nil {
			return nil, err
		}
	}
	for _, it := range items {
		for _, r := range it.info.References {
			// Keep references alive until the registration commits.
			if err := in.st.AddTempRoot(r); err != nil {
				return nil, err
			}
		}
	}
	if err := syncTree(in.staging); err != nil {
		return nil, err
	}
	unlock, err := in.st.LockPaths(paths)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var todo []staged
	for _, it := range items {
		valid, err := in.st.IsValidPath(it.info.Path)
		if err != nil {
			return nil, err
		}
		if !valid {
			todo = append(todo, it)
		}
	}
	var moved []string
	undo := func() {
		for _, p := range moved {
			removeTree(p)
		}
	}
	for _, it := range todo {
		// Whatever is at the final name is invalid (we hold the lock and
		// the path is not valid): a leftover of a process that died.
		if _, err := removeTree(it.info.Path); err != nil {
			undo()
			return nil, err
		}
		if err := local.MoveTree(it.tree, it.info.Path); err != nil {
			undo()
			return nil, err
		}
		moved = append(moved, it.info.Path)
	}
	if err := syncDir(filepath.Dir(paths[0])); err != nil {
		undo()
		return nil, err
	}
	infos := make([]*local.PathInfo, len(todo))
	for i, it := range todo {
		infos[i] = it.info
	}
	if err := in.st.RegisterValidPaths(infos); err != nil {
		undo()
		return nil, err
	}
	return moved, nil
}

// removeTree deletes path, a file or a tree with read-only directories;
// a missing path is not an error. It reports whether something was there.
func removeTree(path string) (bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(path); err != nil {
		return true, fmt.Errorf("removing '%s': %w", path, err)
	}
	return true, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
