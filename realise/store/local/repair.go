package local

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/nixhash"
)

// ReplaceValidPath repairs the valid path info.Path: the tree at staged
// (complete, canonicalised, on the store's file system, such as a
// rebuilt output or a substituted NAR restored into StagingDir) takes the
// place of whatever is at the path now (contents that no longer match
// the registration, or nothing), and the path's registration becomes
// info (NAR hash and size, references, deriver, content address,
// signatures; signatures are dropped unless the NAR hash is unchanged or
// info brings its own). This is Nix's repair: the path stays valid
// throughout, its referrers keep referring to it.
//
// The two trees are swapped with one atomic rename (RENAME_EXCHANGE), so
// the path is never absent, then the old contents are deleted; a crash
// at worst leaves the new contents registered with the old hash (found by
// Verify, repaired again) or the old contents in the staging directory.
// The caller holds the path's lock (LockPaths). References must be
// valid.
func (s *Store) ReplaceValidPath(info *PathInfo, staged string) error {
	sp, err := s.parseStorePath(info.Path)
	if err != nil {
		return err
	}
	if info.NarHash.Algorithm() != nixhash.SHA256 {
		return fmt.Errorf("cannot register '%s': its NAR hash must be SHA-256", info.Path)
	}
	if !strings.HasPrefix(staged, string(s.dir)+"/") {
		return fmt.Errorf("cannot repair '%s' from '%s': it is not on the store's file system", info.Path, staged)
	}
	if err := s.gc.rlock(); err != nil {
		return err
	}
	defer s.gc.runlock()
	old, err := s.QueryPathInfo(info.Path)
	if err != nil {
		return err
	}
	if err := syncTree(staged); err != nil {
		return s.WriteError(err)
	}
	dst := s.dir.Path(sp)
	if err := swapInto(staged, dst); err != nil {
		return s.WriteError(fmt.Errorf("replacing '%s': %w", dst, err))
	}
	// staged now holds the old contents, if there were any.
	removeTree(staged)
	if err := syncDir(string(s.dir)); err != nil {
		return s.WriteError(err)
	}
	sigs := info.Sigs
	if len(sigs) == 0 && info.NarHash == old.NarHash {
		sigs = old.Sigs
	}
	deriver := info.Deriver
	if deriver == "" {
		deriver = old.Deriver
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	id, err := pathID(tx, dst)
	if err != nil {
		return err
	}
	if id == 0 {
		return &InvalidPathError{Path: dst}
	}
	var ultimate any
	if info.Ultimate {
		ultimate = 1
	}
	if _, err := tx.Exec("update ValidPaths set hash = ?, narSize = ?, registrationTime = ?, deriver = ?, ultimate = ?, sigs = ?, ca = ? where id = ?",
		"sha256:"+info.NarHash.Base16(), info.NarSize, time.Now().Unix(), nullString(deriver), ultimate,
		nullString(strings.Join(sigs, " ")), nullString(info.CA), id); err != nil {
		return err
	}
	if _, err := tx.Exec("delete from Refs where referrer = ?", id); err != nil {
		return err
	}
	for _, ref := range info.References {
		refID, err := pathID(tx, ref)
		if err != nil {
			return err
		}
		if refID == 0 {
			return fmt.Errorf("cannot repair '%s': it refers to '%s', which is not valid", dst, ref)
		}
		if _, err := tx.Exec("insert or ignore into Refs (referrer, reference) values (?, ?)", id, refID); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// swapInto puts the tree at from at to, atomically exchanging the two
// when to exists (from then holds to's old contents). Directories moved
// to another parent need write permission on themselves (for "..")
// unless one is root, so read-only ones are made writable meanwhile.
func swapInto(from, to string) error {
	fromInfo, err := os.Lstat(from)
	if err != nil {
		return err
	}
	toInfo, err := os.Lstat(to)
	if errors.Is(err, os.ErrNotExist) {
		if !fromInfo.IsDir() {
			return os.Rename(from, to)
		}
		if err := os.Chmod(from, 0o755); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			os.Chmod(from, fromInfo.Mode().Perm())
			return err
		}
		return os.Chmod(to, fromInfo.Mode().Perm())
	}
	if err != nil {
		return err
	}
	for _, x := range []struct {
		path string
		info os.FileInfo
	}{{from, fromInfo}, {to, toInfo}} {
		if x.info.IsDir() {
			if err := os.Chmod(x.path, 0o755); err != nil {
				return err
			}
		}
	}
	restore := func() {
		// After the exchange, to holds from's tree and the other way round.
		if fromInfo.IsDir() {
			os.Chmod(to, fromInfo.Mode().Perm())
		}
		if toInfo.IsDir() {
			os.Chmod(from, toInfo.Mode().Perm())
		}
	}
	err = unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// No atomic exchange on this file system: move the old tree aside
		// first (the path is absent for a moment).
		aside := from + ".old"
		if err = os.Rename(to, aside); err == nil {
			if err = os.Rename(from, to); err != nil {
				os.Rename(aside, to)
			} else {
				err = os.Rename(aside, from)
			}
		}
	}
	if err != nil {
		// Nothing moved: give both their modes back.
		if fromInfo.IsDir() {
			os.Chmod(from, fromInfo.Mode().Perm())
		}
		if toInfo.IsDir() {
			os.Chmod(to, toInfo.Mode().Perm())
		}
		return err
	}
	restore()
	return nil
}
