package local

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/nixhash"
)

// tempRoots is this Store's file of temporary roots,
// <state>/temproots/<pid>-<random>: the NUL-terminated store paths the
// process uses and the garbage collector must keep while it lives. The file
// is locked shared for as long as it exists; the collector tells a dead
// process's file by being able to lock it exclusively.
type tempRoots struct {
	mu   sync.Mutex
	f    *os.File
	seen map[string]bool
}

func (t *tempRoots) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f != nil {
		os.Remove(t.f.Name())
		t.f.Close()
		t.f = nil
	}
}

// AddTempRoot protects path (an absolute store path, valid or not) from
// the garbage collector until the store is closed or the process exits.
func (s *Store) AddTempRoot(path string) error {
	if _, err := s.parseStorePath(path); err != nil {
		return err
	}
	if err := s.gc.rlock(); err != nil {
		return err
	}
	defer s.gc.runlock()
	return s.addTempRootLocked(path)
}

// addTempRootLocked appends path to the temporary-roots file; the caller
// holds the GC lock shared, so no collector is reading the files.
func (s *Store) addTempRootLocked(path string) error {
	t := &s.tempRoots
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[path] {
		return nil
	}
	if t.f == nil {
		var suffix [6]byte
		rand.Read(suffix[:])
		name := filepath.Join(s.stateDir, tempRootsDirName, fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(suffix[:])))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		if ok, err := flock(f, unix.LOCK_SH, false); !ok || err != nil {
			f.Close()
			os.Remove(name)
			return errors.Join(fmt.Errorf("cannot lock the temporary roots file '%s'", name), err)
		}
		t.f = f
		t.seen = map[string]bool{}
	}
	if _, err := t.f.WriteString(path + "\x00"); err != nil {
		return err
	}
	t.seen[path] = true
	return nil
}

// tempRootSet maps store paths to the processes (by pid) protecting them.
type tempRootSet map[string][]string

// readTempRoots reads the temporary roots of live processes and deletes
// the files of dead ones. The caller holds the GC lock exclusively.
func (s *Store) readTempRoots() (tempRootSet, error) {
	dir := filepath.Join(s.stateDir, tempRootsDirName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	roots := tempRootSet{}
	for _, e := range entries {
		name := filepath.Join(dir, e.Name())
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		dead, err := flock(f, unix.LOCK_EX, false)
		if err != nil {
			f.Close()
			return nil, err
		}
		if dead {
			os.Remove(name)
			f.Close()
			continue
		}
		data, err := readAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		pid, _, _ := strings.Cut(e.Name(), "-")
		for _, p := range bytes.Split(data, []byte{0}) {
			if len(p) > 0 {
				roots[string(p)] = append(roots[string(p)], pid)
			}
		}
	}
	return roots, nil
}

func readAll(f *os.File) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), err
}

// Root is a garbage collector root: Link (a symlink, or a temporary root
// written "{temp:<pid>}") keeps the store path Target alive.
type Root struct {
	Link   string
	Target string
}

// FindRoots returns the roots of the store, sorted by link: the symlinks
// below <state>/gcroots and <state>/profiles that point into the store,
// the links that indirect roots (symlinks in gcroots/auto) point at, and
// the temporary roots of live processes. Indirect roots whose link has
// disappeared are removed. Only valid targets count.
func (s *Store) FindRoots() ([]Root, error) {
	ok, err := s.gc.lock(true)
	if err != nil || !ok {
		return nil, err
	}
	defer s.gc.unlock()
	temp, err := s.readTempRoots()
	if err != nil {
		return nil, err
	}
	return s.findRootsLocked(temp)
}

// findRootsLocked finds the roots, given the temporary roots; the caller
// holds the GC lock exclusively.
func (s *Store) findRootsLocked(temp tempRootSet) ([]Root, error) {
	var roots []Root
	found := func(link, target string) error {
		p, err := s.ToStorePath(target)
		if err != nil {
			return nil
		}
		if valid, err := s.IsValidPath(p); err != nil || !valid {
			return err
		}
		roots = append(roots, Root{Link: link, Target: p})
		return nil
	}
	for _, d := range []string{gcRootsDirName, profilesDirName} {
		if err := s.findRootsIn(filepath.Join(s.stateDir, d), found); err != nil {
			return nil, err
		}
	}
	for p, pids := range temp {
		for _, pid := range pids {
			if err := found("{temp:"+pid+"}", p); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(roots, func(a, b Root) int {
		if c := strings.Compare(a.Link, b.Link); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	return slices.Compact(roots), nil
}

// findRootsIn walks a roots directory as Nix's findRoots does: a symlink
// into the store is a root; a symlink elsewhere is an indirect root whose
// target, if it is itself a symlink into the store, is the root (stale
// indirect roots in gcroots/auto are deleted); regular files named like
// store paths are roots too (Nix uses them for runtime roots).
func (s *Store) findRootsIn(path string, found func(link, target string) error) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch mode := info.Mode(); {
	case mode.IsDir():
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := s.findRootsIn(filepath.Join(path, e.Name()), found); err != nil {
				return err
			}
		}
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		if s.isInStore(target) {
			return found(path, target)
		}
		info2, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			if strings.HasPrefix(path, filepath.Join(s.stateDir, gcRootsDirName, autoRootsDirName)+"/") {
				os.Remove(path)
			}
			return nil
		}
		if err != nil || info2.Mode()&fs.ModeSymlink == 0 {
			return nil
		}
		target2, err := os.Readlink(target)
		if err != nil {
			return nil
		}
		if !filepath.IsAbs(target2) {
			target2 = filepath.Join(filepath.Dir(target), target2)
		}
		if s.isInStore(target2) {
			return found(target, target2)
		}
	case mode.IsRegular():
		return found(path, filepath.Join(string(s.dir), filepath.Base(path)))
	}
	return nil
}

func (s *Store) isInStore(path string) bool {
	return strings.HasPrefix(filepath.Clean(path), string(s.dir)+"/")
}

// AddIndirectRoot registers link (an absolute path outside the state
// directory, typically a "result" symlink) as an indirect root: whatever
// store path it points to is kept alive while the link exists. The
// registration is a symlink gcroots/auto/<hash of link> -> link.
func (s *Store) AddIndirectRoot(link string) error {
	if !filepath.IsAbs(link) {
		return fmt.Errorf("indirect root '%s' must be an absolute path", link)
	}
	link = filepath.Clean(link)
	hash := nixhash.SumString(nixhash.SHA1, link).NixBase32()
	return ReplaceSymlink(link, filepath.Join(s.stateDir, gcRootsDirName, autoRootsDirName, hash))
}

// AddRoot makes link a symlink to storePath (replacing an existing
// symlink) and registers it as an indirect root, as nix-store --add-root
// --indirect does. A link inside <state>/gcroots is a direct root and needs
// no registration.
func (s *Store) AddRoot(storePath, link string) error {
	if _, err := s.parseStorePath(storePath); err != nil {
		return err
	}
	abs, err := filepath.Abs(link)
	if err != nil {
		return err
	}
	if info, err := os.Lstat(abs); err == nil && info.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("cannot create root '%s': it exists and is not a symlink", abs)
	}
	if err := ReplaceSymlink(storePath, abs); err != nil {
		return err
	}
	if strings.HasPrefix(abs, filepath.Join(s.stateDir, gcRootsDirName)+"/") {
		return nil
	}
	return s.AddIndirectRoot(abs)
}

// ReplaceSymlink atomically makes link point to target: a symbolic link
// at a temporary name in the same directory is renamed over link.
func ReplaceSymlink(target, link string) error {
	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(link), ".tmp-"+hex.EncodeToString(suffix[:])+"-"+filepath.Base(link))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
