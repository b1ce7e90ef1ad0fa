package local

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// Options configure Open.
type Options struct {
	// StoreDir and StateDir are absolute, clean directories; empty ones
	// default as DefaultDirs says.
	StoreDir string
	StateDir string
	// KeepOutputs makes the garbage collector keep the outputs of live
	// derivations (Nix's keep-outputs, off by default).
	KeepOutputs bool
	// DiscardDerivations makes the garbage collector delete the derivations
	// that live paths were built from (Nix's keep-derivations = false).
	DiscardDerivations bool
}

// Store is a local store: a store directory, its state directory, and the
// database of valid paths. Its methods are safe for concurrent use, and
// any number of processes may use the same store at once.
type Store struct {
	dir             store.Dir
	stateDir        string
	db              *sql.DB
	gc              *gcLock
	tempRoots       tempRoots
	keepOutputs     bool
	keepDerivations bool
	closeOnce       sync.Once
	closeErr        error
}

// PathInfo describes a valid store path.
type PathInfo struct {
	// Path is the absolute store path.
	Path string
	// NarHash is the SHA-256 of the path's NAR serialisation.
	NarHash nixhash.Hash
	NarSize int64
	// References are the absolute store paths the path refers to, sorted;
	// they may include Path itself.
	References []string
	// Deriver is the .drv the path was built from, if known.
	Deriver          string
	RegistrationTime time.Time
	// Ultimate is set for paths built locally rather than copied.
	Ultimate bool
	Sigs     []string
	// CA is the content address, as Nix renders it ("fixed:r:sha256:…",
	// "text:sha256:…"), or "" for input-addressed paths.
	CA string
}

// InvalidPathError is returned for a store path that is not valid.
type InvalidPathError struct{ Path string }

func (e *InvalidPathError) Error() string { return fmt.Sprintf("path '%s' is not valid", e.Path) }

// NotInStoreError is returned for a path outside the store directory.
type NotInStoreError struct {
	Path string
	Dir  store.Dir
}

func (e *NotInStoreError) Error() string {
	return fmt.Sprintf("path '%s' is not in the store '%s'", e.Path, string(e.Dir))
}

// Open opens the store described by opts, creating its directories and
// database when they do not exist yet, and cleans up after processes that
// died while adding paths. It refuses directories that belong to a Nix
// installation or to another state directory (see ForeignStoreError).
func Open(opts Options) (*Store, error) {
	storeDir, stateDir := opts.StoreDir, opts.StateDir
	if storeDir == "" || stateDir == "" {
		defStore, defState, err := DefaultDirs()
		if err != nil {
			return nil, err
		}
		if storeDir == "" {
			storeDir = defStore
		}
		if stateDir == "" {
			stateDir = defState
		}
	}
	if err := checkDirs(storeDir, stateDir); err != nil {
		return nil, err
	}
	for _, d := range []string{
		filepath.Join(stateDir, dbDirName),
		filepath.Join(stateDir, locksDirName),
		filepath.Join(stateDir, tempRootsDirName),
		filepath.Join(stateDir, gcRootsDirName, autoRootsDirName),
		filepath.Join(stateDir, profilesDirName),
		storeDir,
	} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, asWriteError(err, storeDir, stateDir)
		}
	}
	marker := filepath.Join(storeDir, markerName)
	if !exists(marker) {
		if err := writeFileAtomic(marker, []byte(stateDir+"\n"), 0o444); err != nil {
			return nil, asWriteError(err, storeDir, stateDir)
		}
	}
	if err := os.MkdirAll(filepath.Join(storeDir, tmpDirName), 0o755); err != nil {
		return nil, asWriteError(err, storeDir, stateDir)
	}
	s := &Store{
		dir:             store.Dir(storeDir),
		stateDir:        stateDir,
		keepOutputs:     opts.KeepOutputs,
		keepDerivations: !opts.DiscardDerivations,
	}
	var err error
	if s.gc, err = openGCLock(filepath.Join(stateDir, gcLockName)); err != nil {
		return nil, asWriteError(err, storeDir, stateDir)
	}
	dbPath := filepath.Join(stateDir, dbDirName, dbFileName)
	if s.db, err = openDBLocked(dbPath); err != nil {
		s.gc.close()
		if strings.Contains(err.Error(), "not created by nixl") {
			return nil, &ForeignStoreError{Dir: dbPath, Reason: "this database was not created by nixl"}
		}
		return nil, err
	}
	if err := s.cleanUp(); err != nil {
		s.Close()
		return nil, fmt.Errorf("cleaning up the store: %w", err)
	}
	return s, nil
}

// Close releases the store's resources and its temporary roots.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.tempRoots.close()
		s.closeErr = errors.Join(s.db.Close(), s.gc.close())
	})
	return s.closeErr
}

// Dir returns the store directory as a string (the evaluator's Store
// interface).
func (s *Store) Dir() string { return string(s.dir) }

// StoreDir returns the store directory.
func (s *Store) StoreDir() store.Dir { return s.dir }

// StateDir returns the state directory (database, locks, roots).
func (s *Store) StateDir() string { return s.stateDir }

// cleanUp removes what processes that died while adding left behind: paths
// whose lock file remains (the lock is released when its holder dies) and
// that never became valid, and, when no other process is adding, the
// temporary trees and the temporary-roots files of dead processes.
func (s *Store) cleanUp() error {
	if err := s.cleanStaleLocks(); err != nil {
		return err
	}
	ok, err := s.gc.lock(false)
	if err != nil || !ok {
		return err
	}
	defer s.gc.unlock()
	if err := s.cleanTmpDir(); err != nil {
		return err
	}
	_, err = s.readTempRoots()
	return err
}

// cleanStaleLocks handles lock files nobody holds: their path is deleted
// unless it is valid.
func (s *Store) cleanStaleLocks() error {
	entries, err := os.ReadDir(filepath.Join(s.stateDir, locksDirName))
	if err != nil {
		return err
	}
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok {
			continue
		}
		p, err := store.ParseStorePathBase(base)
		if err != nil {
			continue
		}
		l, err := lockPath(s.lockFileName(base), false)
		if err != nil {
			return err
		}
		if l == nil {
			continue // in use
		}
		err = s.removeIfInvalid(s.dir.Path(p))
		l.unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// removeIfInvalid deletes path from the store directory unless it is
// valid. The caller holds the path's lock.
func (s *Store) removeIfInvalid(path string) error {
	if !exists(path) {
		return nil
	}
	valid, err := s.IsValidPath(path)
	if err != nil || valid {
		return err
	}
	_, err = removeTree(path)
	return err
}

// cleanTmpDir empties <store>/.nixl-tmp; the caller holds the GC lock
// exclusively, so nobody is adding.
func (s *Store) cleanTmpDir() error {
	tmp := filepath.Join(string(s.dir), tmpDirName)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := removeTree(filepath.Join(tmp, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// ToStorePath returns the store path containing path, an absolute path in
// the store directory (possibly below a store path, as in
// "/nix/store/…-hello/bin/hello"). It does not check validity.
func (s *Store) ToStorePath(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", &NotInStoreError{Path: path, Dir: s.dir}
	}
	clean := filepath.Clean(path)
	rest, ok := strings.CutPrefix(clean, string(s.dir)+"/")
	if !ok || rest == "" {
		return "", &NotInStoreError{Path: path, Dir: s.dir}
	}
	base, _, _ := strings.Cut(rest, "/")
	p, err := store.ParseStorePathBase(base)
	if err != nil {
		return "", fmt.Errorf("path '%s' is in the store but is not a store path: %w", path, err)
	}
	return s.dir.Path(p), nil
}

// parseStorePath checks that path is exactly a store path.
func (s *Store) parseStorePath(path string) (store.StorePath, error) {
	p, err := s.dir.ParsePath(path)
	if err != nil {
		return store.StorePath{}, err
	}
	if s.dir.Path(p) != path {
		return store.StorePath{}, fmt.Errorf("'%s' is not a canonical store path", path)
	}
	return p, nil
}

// IsValidPath reports whether path (an absolute store path) is valid.
func (s *Store) IsValidPath(path string) (bool, error) {
	id, err := pathID(s.db, path)
	return id != 0, err
}

// QueryPathInfo returns what the database knows about a valid path, or an
// *InvalidPathError.
func (s *Store) QueryPathInfo(path string) (*PathInfo, error) {
	info, err := queryInfo(s.db, path)
	if err == nil && info == nil {
		err = &InvalidPathError{Path: path}
	}
	return info, err
}

// QueryReferences returns the references of a valid path, sorted.
func (s *Store) QueryReferences(path string) ([]string, error) {
	info, err := s.QueryPathInfo(path)
	if err != nil {
		return nil, err
	}
	return info.References, nil
}

// QueryReferrers returns the valid paths referring to path, sorted.
func (s *Store) QueryReferrers(path string) ([]string, error) {
	id, err := pathID(s.db, path)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, &InvalidPathError{Path: path}
	}
	return queryStrings(s.db, "select path from Refs join ValidPaths on referrer = id where reference = ? order by path", id)
}

// QueryDerivationOutputs returns the known output paths of a valid .drv,
// by output name.
func (s *Store) QueryDerivationOutputs(drvPath string) (map[string]string, error) {
	id, err := pathID(s.db, drvPath)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, &InvalidPathError{Path: drvPath}
	}
	rows, err := s.db.Query("select id, path from DerivationOutputs where drv = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, path string
		if err := rows.Scan(&name, &path); err != nil {
			return nil, err
		}
		out[name] = path
	}
	return out, rows.Err()
}

// QueryValidDerivers returns the valid derivations that have path as an
// output, sorted.
func (s *Store) QueryValidDerivers(path string) ([]string, error) {
	return queryStrings(s.db, "select v.path from DerivationOutputs d join ValidPaths v on d.drv = v.id where d.path = ? order by v.path", path)
}

// QueryAllValidPaths returns every valid path, sorted.
func (s *Store) QueryAllValidPaths() ([]string, error) {
	return queryStrings(s.db, "select path from ValidPaths order by path")
}

// Closure returns the paths reachable from paths through references,
// including paths themselves, sorted. Every path must be valid.
func (s *Store) Closure(paths []string) ([]string, error) {
	seen := map[string]bool{}
	todo := slices.Clone(paths)
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		refs, err := s.QueryReferences(p)
		if err != nil {
			return nil, err
		}
		todo = append(todo, refs...)
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// removeTree deletes path (a file or a tree with read-only directories)
// and returns the disk space it used, counted as the allocated blocks of
// files with no other links, as Nix counts freed bytes.
func removeTree(path string) (uint64, error) {
	var freed uint64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		freed += diskUsage(info)
		if d.IsDir() && info.Mode().Perm()&0o700 != 0o700 {
			if err := os.Chmod(p, info.Mode().Perm()|0o700); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return freed, os.RemoveAll(path)
}

// ReadDerivation parses a valid .drv in the store.
func (s *Store) ReadDerivation(drvPath string) (*derivation.Derivation, error) {
	valid, err := s.IsValidPath(drvPath)
	if err != nil {
		return nil, err
	}
	if !valid {
		return nil, &InvalidPathError{Path: drvPath}
	}
	return derivation.ReadFile(s.dir, drvPath)
}
