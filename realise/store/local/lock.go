package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// flock applies an advisory lock (unix.LOCK_SH, unix.LOCK_EX or
// unix.LOCK_UN) to f. Without wait it reports false instead of blocking when
// another open file description holds a conflicting lock. flock locks belong
// to the open file description, so they are released when the process dies,
// however it dies.
func flock(f *os.File, how int, wait bool) (bool, error) {
	if !wait && how != unix.LOCK_UN {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		default:
			return false, fmt.Errorf("locking '%s': %w", f.Name(), err)
		}
	}
}

// gcLock is the store-wide lock between adding and collecting garbage.
// Everything that creates files in the store, or records temporary roots,
// holds it shared; the garbage collector and the clean-up of leftovers hold
// it exclusively. flock does not exclude two holders that share one open
// file, so within the process a reader-preferring read-write lock plays
// the same role, and the shared flock is taken once for all the readers of
// this Store. Readers are preferred so that a shared holder may take it
// again (a filter callback adding a path while a path is being added)
// without deadlocking against a waiting collector.
type gcLock struct {
	mu      sync.Mutex
	cond    sync.Cond
	readers int
	writer  bool
	f       *os.File
}

func openGCLock(path string) (*gcLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	l := &gcLock{f: f}
	l.cond.L = &l.mu
	return l, nil
}

func (l *gcLock) rlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writer {
		l.cond.Wait()
	}
	if l.readers == 0 {
		// Blocks (with mu held, so other readers wait too) while another
		// process collects garbage.
		if _, err := flock(l.f, unix.LOCK_SH, true); err != nil {
			return err
		}
	}
	l.readers++
	return nil
}

func (l *gcLock) runlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readers--
	if l.readers == 0 {
		flock(l.f, unix.LOCK_UN, true)
		l.cond.Broadcast()
	}
}

// lock takes the lock exclusively; without wait it gives up (false) if
// anyone, in this process or another, holds it.
func (l *gcLock) lock(wait bool) (bool, error) {
	l.mu.Lock()
	for l.writer || l.readers > 0 {
		if !wait {
			l.mu.Unlock()
			return false, nil
		}
		l.cond.Wait()
	}
	l.writer = true
	l.mu.Unlock()
	ok, err := flock(l.f, unix.LOCK_EX, wait)
	if !ok {
		l.release()
	}
	return ok, err
}

func (l *gcLock) unlock() {
	flock(l.f, unix.LOCK_UN, true)
	l.release()
}

func (l *gcLock) release() {
	l.mu.Lock()
	l.writer = false
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *gcLock) close() error { return l.f.Close() }

// pathLock is the lock on one store path, held while the path is being
// created or replaced, so that two processes never create it at once. Lock
// files live in <state>/locks and are deleted when released; a lock file
// left behind is the trace of a process that died while creating its path,
// which the next Open finds and cleans up after.
type pathLock struct {
	f    *os.File
	name string
}

// lockFileName is the lock file of a store path base name.
func (s *Store) lockFileName(base string) string {
	return filepath.Join(s.stateDir, locksDirName, base+".lock")
}

// lockPath locks the file name. Without wait it returns nil, nil when
// someone else holds the lock.
//
// Deleting lock files needs care: a process may have opened the file just
// before its holder deleted it, and would then lock a file nobody else can
// find. So a holder about to delete its lock file first writes a byte into
// it, and whoever acquires a lock on a non-empty file knows it is stale and
// starts again with a fresh file (Nix's protocol).
func lockPath(name string, wait bool) (*pathLock, error) {
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		ok, err := flock(f, unix.LOCK_EX, wait)
		if err != nil || !ok {
			f.Close()
			return nil, err
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if info.Size() == 0 {
			return &pathLock{f: f, name: name}, nil
		}
		f.Close() // stale: deleted by its previous holder
	}
}

// unlock marks the lock file stale, deletes it and releases the lock.
func (l *pathLock) unlock() {
	if l == nil {
		return
	}
	l.f.Write([]byte{'d'})
	os.Remove(l.name)
	l.f.Close()
}

// pathLocks is a set of path locks taken in sorted order.
type pathLocks []*pathLock

func (ls pathLocks) unlock() {
	for i := len(ls) - 1; i >= 0; i-- {
		ls[i].unlock()
	}
}
