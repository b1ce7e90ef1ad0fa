package local

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/realise/store"
)

// This file serves the sharing of store paths (package realise/cache):
// signatures recorded with valid paths, and finding a path by the hash
// part a binary cache client asks for.

// AddSignatures adds sigs to the signatures of a valid path (the sigs
// column), keeping those it has and dropping duplicates, as Nix's
// addSignatures does. It returns an *InvalidPathError for a path that is
// not valid.
func (s *Store) AddSignatures(path string, sigs []string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var old sql.NullString
	err = tx.QueryRow("select sigs from ValidPaths where path = ?", path).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return &InvalidPathError{Path: path}
	}
	if err != nil {
		return err
	}
	all := strings.Fields(old.String)
	for _, sig := range sigs {
		if sig = strings.TrimSpace(sig); sig != "" && !slices.Contains(all, sig) {
			all = append(all, sig)
		}
	}
	if _, err := tx.Exec("update ValidPaths set sigs = ? where path = ?", nullString(strings.Join(all, " ")), path); err != nil {
		return err
	}
	return tx.Commit()
}

// QueryPathFromHashPart returns the valid path whose hash part is
// hashPart (the 32 characters before the name), or "" if there is none,
// as Nix's queryPathFromHashPart.
func (s *Store) QueryPathFromHashPart(hashPart string) (string, error) {
	if len(hashPart) != store.StorePathHashLen {
		return "", nil
	}
	prefix := string(s.dir) + "/" + hashPart
	var p string
	err := s.db.QueryRow("select path from ValidPaths where path >= ? order by path limit 1", prefix).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(p, prefix+"-") {
		return "", nil
	}
	return p, nil
}

// StagingDir creates a private directory on the store's file system
// (below <store>/.nixl-tmp) for trees that are to be renamed into the
// store, as substituting or importing paths does: restore there, take the
// paths' locks (LockPaths), rename into place, then RegisterValidPaths.
// Until release is called the GC lock is held shared, so neither the
// garbage collector nor the clean-up of another process's Open removes
// the directory; release deletes it with whatever is left in it.
func (s *Store) StagingDir() (dir string, release func(), err error) {
	if err := s.gc.rlock(); err != nil {
		return "", nil, err
	}
	dir, err = s.newTempDir()
	if err != nil {
		s.gc.runlock()
		return "", nil, s.WriteError(err)
	}
	var once sync.Once
	return dir, func() {
		once.Do(func() {
			removeTree(dir)
			s.gc.runlock()
		})
	}, nil
}
