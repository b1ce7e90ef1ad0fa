package image

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// testStore opens a fresh store in a temporary directory.
func testStore(t testing.TB) *local.Store {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	s, err := local.Open(local.Options{StoreDir: filepath.Join(dir, "store"), StateDir: filepath.Join(dir, "var")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addTree adds a tree made by fill to the store as a source path with
// the given references, and returns its path. The same contents and
// references give the same path.
func addTree(t testing.TB, s *local.Store, name string, refs []string, fill func(dir string)) string {
	t.Helper()
	tmp := filepath.Join(s.Dir(), ".nixl-tmp", "test-"+name)
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	fill(tmp)
	h, size, err := store.HashPath(nixhash.SHA256, tmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sps []store.StorePath
	for _, r := range refs {
		sp, err := s.StoreDir().ParsePath(r)
		if err != nil {
			t.Fatal(err)
		}
		sps = append(sps, sp)
	}
	sp, err := s.StoreDir().MakeSourcePath(name, h, sps, false)
	if err != nil {
		t.Fatal(err)
	}
	p := s.StoreDir().Path(sp)
	if ok, _ := s.IsValidPath(p); ok {
		os.RemoveAll(tmp)
		return p
	}
	unlock, err := s.LockPaths([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	if err := local.Canonicalise(p); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterValidPaths([]*local.PathInfo{{Path: p, NarHash: h, NarSize: size, References: refs}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t testing.TB, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// hostBusybox is the static busybox of Debian's busybox-static.
func hostBusybox(t testing.TB) string {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	t.Skip("no static busybox (apt-get install busybox-static)")
	return ""
}

// addBusybox adds a tree with bin/busybox and an applet link.
func addBusybox(t testing.TB, s *local.Store) string {
	bb := hostBusybox(t)
	return addTree(t, s, "busybox", nil, func(dir string) {
		data, err := os.ReadFile(bb)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "bin", "busybox"), string(data), 0o755)
		for _, applet := range []string{"sh", "cat"} {
			if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// fixture is a small closure: app refers to lib and busybox.
type fixture struct {
	s                 *local.Store
	busybox, lib, app string
	closure           []PathInfo
}

func newFixture(t testing.TB, appText string) *fixture {
	s := testStore(t)
	return fillFixture(t, s, appText)
}

func fillFixture(t testing.TB, s *local.Store, appText string) *fixture {
	f := &fixture{s: s}
	f.busybox = addBusybox(t, s)
	f.lib = addTree(t, s, "libgreet-1.0", nil, func(dir string) {
		writeFile(t, filepath.Join(dir, "lib", "greeting"), "hello from the library\n", 0o644)
		writeFile(t, filepath.Join(dir, "share", "doc", "greet", "README"), "docs\n", 0o644)
	})
	f.app = addTree(t, s, "hello-app", []string{f.busybox, f.lib}, func(dir string) {
		writeFile(t, filepath.Join(dir, "bin", "hello"), "#!"+f.busybox+"/bin/sh\ncat "+f.lib+"/lib/greeting\necho "+appText+"\n", 0o755)
		writeFile(t, filepath.Join(dir, "share", "doc", "hello", "README"), "app docs\n", 0o644)
	})
	var err error
	f.closure, err = ClosureInfo(s, []string{f.app})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) spec() *Spec {
	return &Spec{
		Name:     "hello",
		Tag:      "v1",
		StoreDir: f.s.Dir(),
		Contents: []string{f.app, f.busybox},
		Closure:  f.closure,
		Config: RuntimeConfig{
			Entrypoint: []string{f.app + "/bin/hello"},
			Env:        []string{"PATH=/bin"},
		},
		Platform: Platform{OS: "linux", Architecture: "amd64"},
	}
}

func build(t testing.TB, spec *Spec) (string, Descriptor) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image")
	d, err := Build(context.Background(), spec, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, d
}

// tarEntries lists the entries of a (possibly gzip-compressed) layer
// blob as "name type mode uid target-or-size".
func tarEntries(t testing.TB, l *Layout, digest string) map[string]*tar.Header {
	t.Helper()
	f, err := l.Open(digest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	if magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	out := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
}

func sortedNames(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func needTool(t testing.TB, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install -y skopeo umoci busybox-static)", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

type localStore = local.Store

func openLocal(storeDir, stateDir string) (*local.Store, error) {
	return local.Open(local.Options{StoreDir: storeDir, StateDir: stateDir})
}
