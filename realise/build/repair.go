package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// repairOutputs finishes a build with Options.Repair: each valid output
// whose contents no longer match its registration (a file modified in
// the store, or the path gone) is replaced by the rebuilt one, atomically
// (local.Store.ReplaceValidPath), and registered anew; outputs that are
// intact are left as they are, even if the rebuild differs from them.
// The caller holds the outputs' locks.
func (b *Builder) repairOutputs(drvPath string, outNames []string, outPaths, produced map[string]string, infos map[string]*local.PathInfo) error {
	for _, name := range outNames {
		path := outPaths[name]
		registered, err := b.store.QueryPathInfo(path)
		if err != nil {
			return err
		}
		if intact, err := matchesRegistration(path, registered); err != nil {
			return err
		} else if intact {
			continue
		}
		info := infos[name]
		if err := b.store.ReplaceValidPath(info, produced[name]); err != nil {
			return fmt.Errorf("repairing output '%s' of '%s': %w", name, drvPath, err)
		}
	}
	return nil
}

// matchesRegistration tells whether the contents at path still have the
// registered NAR hash and size.
func matchesRegistration(path string, info *local.PathInfo) (bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	h, size, err := store.HashPath(nixhash.SHA256, path, nil)
	if err != nil {
		return false, fmt.Errorf("hashing '%s': %w", path, err)
	}
	return h == info.NarHash && size == info.NarSize, nil
}
