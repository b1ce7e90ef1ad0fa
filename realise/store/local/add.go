package local

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// testHook, when set by tests, is called at the named stages of adding a
// path ("copied": the tree is in the temporary directory; "renamed": it is
// at its final name but not registered yet).
var testHook func(stage string)

func hook(stage string) {
	if testHook != nil {
		testHook(stage)
	}
}

// AddPath adds the file or directory at srcPath to the store under name
// and returns its store path, exactly the path nix-store --add and
// builtins.path compute: recursively (the NAR of the tree, SHA-256, a
// "source" path) or, when recursive is false, flat (the bytes of a regular
// file, a fixed-output path). filter, which may be nil, is asked about every
// entry below srcPath with its kind ("regular", "directory", "symlink" or
// "unknown"); rejected entries are left out. Adding a path that is already
// valid changes nothing. The path is a temporary root of this Store.
func (s *Store) AddPath(name, srcPath string, recursive bool, filter func(path, kind string) (bool, error)) (string, error) {
	p, _, err := s.addPath(name, srcPath, recursive, filter)
	return p, s.WriteError(err)
}

// AddText adds a regular file with the given contents and references
// (absolute store paths, which must be valid), as builtins.toFile does,
// and returns its store path. A name ending in ".drv" must hold a
// derivation; its outputs are recorded.
func (s *Store) AddText(name, text string, refs []string) (string, error) {
	p, _, err := s.addText(name, []byte(text), refs)
	return p, s.WriteError(err)
}

// AddDerivation writes drv to the store as <name>.drv and returns its
// path, which is the one drv.ComputePath gives.
func (s *Store) AddDerivation(drv *derivation.Derivation) (string, error) {
	want, err := drv.ComputePath(s.dir)
	if err != nil {
		return "", err
	}
	p, _, err := s.addText(drv.Name+store.DrvExtension, drv.ATerm(), drv.References())
	if err == nil && p != want {
		err = fmt.Errorf("internal error: derivation '%s' was added as '%s'", want, p)
	}
	return p, s.WriteError(err)
}

// newTempDir creates a private directory in <store>/.nixl-tmp for one
// addition. The caller holds the GC lock shared.
func (s *Store) newTempDir() (string, error) {
	var suffix [8]byte
	rand.Read(suffix[:])
	dir := filepath.Join(string(s.dir), tmpDirName, fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(suffix[:])))
	return dir, os.Mkdir(dir, 0o700)
}

func (s *Store) addPath(name, srcPath string, recursive bool, filter func(path, kind string) (bool, error)) (path string, added bool, err error) {
	if err := store.ValidateStorePathName(name); err != nil {
		return "", false, err
	}
	if err := s.gc.rlock(); err != nil {
		return "", false, err
	}
	defer s.gc.runlock()
	tmpDir, err := s.newTempDir()
	if err != nil {
		return "", false, err
	}
	defer removeTree(tmpDir)
	tmp := filepath.Join(tmpDir, "x")

	var (
		sp      store.StorePath
		narHash nixhash.Hash
		narSize int64
		ca      string
	)
	if recursive {
		narHash, narSize, err = copyTree(srcPath, tmp, filter)
		if err != nil {
			return "", false, err
		}
		sp, err = s.dir.MakeSourcePath(name, narHash, nil, false)
		ca = "fixed:r:" + narHash.String()
	} else {
		var fileHash nixhash.Hash
		fileHash, err = copyFlat(srcPath, tmp)
		if err != nil {
			return "", false, err
		}
		sp, err = s.dir.MakeFixedOutputPath(name, store.FlatMethod, fileHash, nil, false)
		ca = "fixed:" + fileHash.String()
		if err == nil {
			narHash, narSize, err = store.HashPath(nixhash.SHA256, tmp, nil)
		}
	}
	if err != nil {
		return "", false, err
	}
	hook("copied")
	info := &PathInfo{Path: s.dir.Path(sp), NarHash: narHash, NarSize: narSize, CA: ca}
	added, err = s.install(sp, info, nil, func(dst string) error {
		if err := canonicalise(tmp); err != nil {
			return err
		}
		if err := syncTree(tmpDir); err != nil {
			return err
		}
		return MoveTree(tmp, dst) // a read-only directory needs care (addtree.go)
	})
	return info.Path, added, err
}

func (s *Store) addText(name string, text []byte, refs []string) (string, bool, error) {
	refPaths := make([]store.StorePath, 0, len(refs))
	for _, r := range refs {
		p, err := s.parseStorePath(r)
		if err != nil {
			return "", false, fmt.Errorf("reference of '%s': %w", name, err)
		}
		refPaths = append(refPaths, p)
	}
	contentHash := nixhash.Sum(nixhash.SHA256, text)
	sp, err := s.dir.MakeTextPath(name, contentHash, refPaths)
	if err != nil {
		return "", false, err
	}
	var drv *derivation.Derivation
	if drvName, ok := strings.CutSuffix(name, store.DrvExtension); ok {
		if drv, err = derivation.Parse(s.dir, drvName, text); err != nil {
			return "", false, fmt.Errorf("cannot add derivation '%s': %w", s.dir.Path(sp), err)
		}
	}
	sortedRefs := slices.Clone(refs)
	slices.Sort(sortedRefs)
	info := &PathInfo{
		Path:       s.dir.Path(sp),
		NarHash:    store.HashNARBytes(nixhash.SHA256, text),
		NarSize:    narSizeOfBytes(len(text)),
		References: slices.Compact(sortedRefs),
		CA:         "text:" + contentHash.String(),
	}
	if err := s.gc.rlock(); err != nil {
		return "", false, err
	}
	defer s.gc.runlock()
	// The path is known before writing anything: skip the work if it is
	// valid (install checks again under the path lock).
	if valid, err := s.IsValidPath(info.Path); err != nil {
		return "", false, err
	} else if valid {
		return info.Path, false, s.addTempRootLocked(info.Path)
	}
	added, err := s.install(sp, info, drv, func(dst string) error {
		tmpDir, err := s.newTempDir()
		if err != nil {
			return err
		}
		defer removeTree(tmpDir)
		tmp := filepath.Join(tmpDir, "x")
		if err := writeSynced(tmp, text); err != nil {
			return err
		}
		if err := canonicalise(tmp); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	})
	return info.Path, added, err
}

// narSizeOfBytes is the size of the NAR of a regular file of n bytes.
func narSizeOfBytes(n int) int64 {
	size, _ := store.DumpBytes(io.Discard, make([]byte, 0))
	return size + int64((n+7)&^7)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// install makes sp valid unless it already is: under the path's lock it
// calls put to create the path's file system object at dst (its final
// name, where nothing exists), makes the store directory entry durable and
// registers info (and drv, for a derivation) in one transaction. It adds a temporary root for the
// path either way. The caller holds the GC lock shared.
//
// A crash before the registration commits leaves at worst an unregistered
// object and a lock file, which the next Open removes; the path is never
// valid before its contents are complete and durable.
func (s *Store) install(sp store.StorePath, info *PathInfo, drv *derivation.Derivation, put func(dst string) error) (added bool, err error) {
	dst := info.Path
	if err := s.addTempRootLocked(dst); err != nil {
		return false, err
	}
	lock, err := lockPath(s.lockFileName(sp.String()), true)
	if err != nil {
		return false, err
	}
	defer lock.unlock()
	if valid, err := s.IsValidPath(dst); err != nil || valid {
		return false, err
	}
	// Something left by a process that died before registering it.
	if _, err := removeTree(dst); err != nil {
		return false, err
	}
	err = put(dst)
	if err == nil {
		err = syncDir(string(s.dir))
	}
	if err == nil {
		hook("renamed")
		var drvs map[string]*derivation.Derivation
		if drv != nil {
			drvs = map[string]*derivation.Derivation{dst: drv}
		}
		err = s.register([]*PathInfo{info}, drvs)
	}
	if err != nil {
		removeTree(dst)
		return false, err
	}
	return true, nil
}

// RegisterValidPaths makes paths whose contents are already complete in
// the store directory valid, in one transaction, as a builder does with
// the outputs it produced. The caller must hold the paths' locks (see
// LockPaths) and have canonicalised the contents; references must be valid
// or among infos. Infos of paths that are valid already are ignored.
func (s *Store) RegisterValidPaths(infos []*PathInfo) error {
	for _, info := range infos {
		if _, err := s.parseStorePath(info.Path); err != nil {
			return err
		}
		if !exists(info.Path) {
			return fmt.Errorf("cannot register '%s': it does not exist", info.Path)
		}
	}
	return s.register(infos, nil)
}

// register inserts infos, their references and, for derivations, their
// outputs, in one transaction. Derivations not in drvs are read from disk.
func (s *Store) register(infos []*PathInfo, drvs map[string]*derivation.Derivation) error {
	for _, info := range infos {
		if info.NarHash.Algorithm() != nixhash.SHA256 {
			return fmt.Errorf("cannot register '%s': its NAR hash must be SHA-256", info.Path)
		}
	}
	// Parse derivations before the transaction, which should stay short.
	if drvs == nil {
		drvs = map[string]*derivation.Derivation{}
	}
	for _, info := range infos {
		if !strings.HasSuffix(info.Path, store.DrvExtension) || drvs[info.Path] != nil {
			continue
		}
		drv, err := derivation.ReadFile(s.dir, info.Path)
		if err != nil {
			return fmt.Errorf("cannot register derivation '%s': %w", info.Path, err)
		}
		drvs[info.Path] = drv
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ids := map[string]int64{}
	for _, info := range infos {
		id, err := insertPath(tx, info)
		if err != nil {
			return fmt.Errorf("registering '%s': %w", info.Path, err)
		}
		ids[info.Path] = id
	}
	for _, info := range infos {
		for _, ref := range info.References {
			refID, ok := ids[ref]
			if !ok {
				if refID, err = pathID(tx, ref); err != nil {
					return err
				}
				if refID == 0 {
					return fmt.Errorf("cannot add '%s' to the store: it refers to '%s', which is not valid", info.Path, ref)
				}
			}
			if _, err := tx.Exec("insert or ignore into Refs (referrer, reference) values (?, ?)", ids[info.Path], refID); err != nil {
				return err
			}
		}
		if drv := drvs[info.Path]; drv != nil {
			if err := insertOutputs(tx, ids[info.Path], drv); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func insertOutputs(tx *sql.Tx, drvID int64, drv *derivation.Derivation) error {
	for _, name := range drv.OutputNames() {
		if p := drv.Outputs[name].Path; p != "" {
			if _, err := tx.Exec("insert or replace into DerivationOutputs (drv, id, path) values (?, ?, ?)", drvID, name, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// LockPaths takes the locks of the given store paths, in sorted order so
// that two processes locking overlapping sets cannot deadlock, as a
// builder must before creating outputs. The returned function releases
// them.
func (s *Store) LockPaths(paths []string) (unlock func(), err error) {
	sorted := slices.Clone(paths)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var locks pathLocks
	for _, p := range sorted {
		sp, err := s.parseStorePath(p)
		if err != nil {
			locks.unlock()
			return nil, err
		}
		l, err := lockPath(s.lockFileName(sp.String()), true)
		if err != nil {
			locks.unlock()
			return nil, err
		}
		locks = append(locks, l)
	}
	return locks.unlock, nil
}

// copyTree copies the tree at src to dst, which must not exist, keeping
// only the entries filter accepts, and returns the NAR hash and size of
// what was copied. The copy goes through the NAR serialisation, so the
// hash is exactly that of the copy, and the store path computed from it is
// the one a compute-only store gets by hashing src with the same filter.
func copyTree(src, dst string, filter func(path, kind string) (bool, error)) (nixhash.Hash, int64, error) {
	if _, err := os.Lstat(src); err != nil {
		return nixhash.Hash{}, 0, err
	}
	var filterErr error
	var narFilter store.PathFilter
	if filter != nil {
		narFilter = func(path string) bool {
			if filterErr != nil {
				return false
			}
			ok, err := filter(path, store.FileKind(path))
			if err != nil {
				filterErr = err
				return false
			}
			return ok
		}
	}
	pr, pw := io.Pipe()
	dumpDone := make(chan error, 1)
	go func() {
		_, err := store.DumpPath(pw, src, narFilter)
		if err == nil {
			err = filterErr
		}
		pw.CloseWithError(err)
		dumpDone <- err
	}()
	h := nixhash.SHA256.New()
	counter := &store.CountingWriter{W: h}
	restoreErr := store.RestorePath(io.TeeReader(pr, counter), dst)
	// Let the dumper finish (or fail) even if the restore stopped early.
	pr.CloseWithError(errRestoreStopped)
	dumpErr := <-dumpDone
	if dumpErr != nil && !errors.Is(dumpErr, errRestoreStopped) {
		return nixhash.Hash{}, 0, dumpErr
	}
	if restoreErr != nil {
		return nixhash.Hash{}, 0, restoreErr
	}
	if dumpErr != nil {
		return nixhash.Hash{}, 0, fmt.Errorf("adding '%s': the archive ended early", src)
	}
	return nixhash.FromSum(nixhash.SHA256, h.Sum(nil)), counter.N, nil
}

var errRestoreStopped = errors.New("restoring stopped")

// copyFlat copies the regular file src to dst, hashing its bytes. The
// copy is not executable: a flat content address covers only the bytes.
func copyFlat(src, dst string) (nixhash.Hash, error) {
	in, err := os.Open(src)
	if err != nil {
		return nixhash.Hash{}, err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return nixhash.Hash{}, err
	}
	if !info.Mode().IsRegular() {
		return nixhash.Hash{}, fmt.Errorf("cannot add '%s' to the store flat: it is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nixhash.Hash{}, err
	}
	h := nixhash.SHA256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	err = errors.Join(err, out.Close())
	if err != nil {
		return nixhash.Hash{}, err
	}
	return nixhash.FromSum(nixhash.SHA256, h.Sum(nil)), nil
}
