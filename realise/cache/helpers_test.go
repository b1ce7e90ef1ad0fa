package cache

import (
	"context"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// testStore is a local store in a temporary directory; reopen gives a
// fresh store (another state directory) at the same store directory, as
// a second machine sharing paths would have.
type testStore struct {
	base string
	dir  string
	n    int
}

func newTestStore(t *testing.T) *testStore {
	t.Helper()
	base := t.TempDir()
	t.Cleanup(func() { makeWritable(base) })
	return &testStore{base: base, dir: filepath.Join(base, "store")}
}

func makeWritable(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

// open opens a new store (a new state directory) on an empty store
// directory, removing what an earlier store left there.
func (ts *testStore) open(t *testing.T) *local.Store {
	t.Helper()
	makeWritable(ts.dir)
	if err := os.RemoveAll(ts.dir); err != nil {
		t.Fatal(err)
	}
	ts.n++
	s, err := local.Open(local.Options{StoreDir: ts.dir, StateDir: filepath.Join(ts.base, "var"+string(rune('0'+ts.n)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addInputAddressed makes an input-addressed path (as a build output
// would be) holding a directory with a file of the given contents and
// the given references, and returns it.
func addInputAddressed(t *testing.T, s *local.Store, name, contents string, refs ...string) string {
	t.Helper()
	var seed [32]byte
	rand.Read(seed[:])
	sp, err := s.StoreDir().MakeStorePath("output:out", nixhash.Sum(nixhash.SHA256, seed[:]), name)
	if err != nil {
		t.Fatal(err)
	}
	p := s.StoreDir().Path(sp)
	unlock, err := s.LockPaths([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	must(t, os.MkdirAll(filepath.Join(p, "bin"), 0o755))
	text := contents
	for _, r := range refs {
		text += "\n" + r
	}
	must(t, os.WriteFile(filepath.Join(p, "bin", name), []byte(text), 0o755))
	must(t, os.Symlink("bin/"+name, filepath.Join(p, "link")))
	must(t, local.Canonicalise(p))
	h, size, err := store.HashPath(nixhash.SHA256, p, nil)
	must(t, err)
	must(t, s.RegisterValidPaths([]*local.PathInfo{{Path: p, NarHash: h, NarSize: size, References: refs, Deriver: s.StoreDir().Path(sp) + ".drv"}}))
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isValid(t *testing.T, s *local.Store, p string) bool {
	t.Helper()
	ok, err := s.IsValidPath(p)
	must(t, err)
	return ok
}

// storeEntries lists the store directory (without nixl's own files).
func storeEntries(t *testing.T, s *local.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	must(t, err)
	var out []string
	for _, e := range entries {
		if e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	return out
}

// stagingEmpty checks that no staging directory was left behind.
func stagingEmpty(t *testing.T, s *local.Store) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), ".nixl-tmp"))
	if len(entries) != 0 {
		t.Errorf("staging directories left behind: %v", entries)
	}
}

var ctx = context.Background()
