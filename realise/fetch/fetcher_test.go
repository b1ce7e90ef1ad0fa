package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/internal/archivetest"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// server is an HTTP server on 127.0.0.1 serving fixed files, counting
// requests per path.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	etags  map[string]string
	counts map[string]int
	// notModified counts 304 answers.
	notModified int
}

func newServer(t *testing.T) *server {
	s := &server{files: map[string][]byte{}, etags: map[string]string{}, counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.counts[r.URL.Path]++
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "/f", http.StatusFound)
			return
		case strings.HasPrefix(r.URL.Path, "/status/"):
			var code int
			fmt.Sscanf(r.URL.Path, "/status/%d", &code)
			w.WriteHeader(code)
			return
		}
		data, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if et := s.etags[r.URL.Path]; et != "" {
			w.Header().Set("ETag", et)
			if r.Header.Get("If-None-Match") == et {
				s.notModified++
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) set(path string, data []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	s.etags[path] = etag
}

func (s *server) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

func openStore(t *testing.T) *local.Store {
	t.Helper()
	base := t.TempDir()
	t.Cleanup(func() {
		filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	st, err := local.Open(local.Options{StoreDir: filepath.Join(base, "store"), StateDir: filepath.Join(base, "var")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a movable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newFetcher(t *testing.T, st *local.Store) (*Fetcher, *clock) {
	c := &clock{t: time.Unix(1700000000, 0)}
	return New(Options{Store: st, CacheDir: filepath.Join(st.StateDir(), "fetch-cache"), TTL: DefaultTTL, Now: c.now, TempDir: t.TempDir()}), c
}

func flatPath(t *testing.T, st *local.Store, name string, data []byte) string {
	t.Helper()
	p, err := st.StoreDir().MakeFixedOutputPath(name, store.FlatMethod, nixhash.Sum(nixhash.SHA256, data), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return st.StoreDir().Path(p)
}

func TestFetchURLFlatAndCache(t *testing.T) {
	srv := newServer(t)
	data := []byte("hello\n")
	srv.set("/f", data, `"v1"`)
	st := openStore(t)
	f, clk := newFetcher(t, st)
	url := srv.URL + "/f"
	p, err := f.FetchURL(url, "f", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := flatPath(t, st, "f", data); p != want {
		t.Fatalf("path %s, want %s", p, want)
	}
	if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("contents %q, %v", b, err)
	}
	// Within the TTL the cache answers.
	clk.t = clk.t.Add(30 * time.Minute)
	if p2, err := f.FetchURL(url, "f", false, ""); err != nil || p2 != p {
		t.Fatalf("second fetch: %s, %v", p2, err)
	}
	if n := srv.count("/f"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	// A new Fetcher (a new evaluation) uses the cache on disk too.
	f2 := New(Options{Store: st, CacheDir: filepath.Join(st.StateDir(), "fetch-cache"), TTL: DefaultTTL, Now: clk.now})
	if p2, err := f2.FetchURL(url, "f", false, ""); err != nil || p2 != p {
		t.Fatalf("fetch by a new fetcher: %s, %v", p2, err)
	}
	if n := srv.count("/f"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	// Past the TTL the server is asked again, with the ETag.
	clk.t = clk.t.Add(2 * time.Hour)
	if p2, err := f.FetchURL(url, "f", false, ""); err != nil || p2 != p {
		t.Fatalf("revalidation: %s, %v", p2, err)
	}
	if n := srv.count("/f"); n != 2 || srv.notModified != 1 {
		t.Fatalf("%d requests, %d not modified; want 2 and 1", n, srv.notModified)
	}
	// The revalidation renewed the entry.
	clk.t = clk.t.Add(10 * time.Minute)
	f.FetchURL(url, "f", false, "")
	if n := srv.count("/f"); n != 2 {
		t.Fatalf("%d requests after renewal, want 2", n)
	}
	// Changed content past the TTL gives the new path.
	data2 := []byte("hello again\n")
	srv.set("/f", data2, `"v2"`)
	clk.t = clk.t.Add(2 * time.Hour)
	p3, err := f.FetchURL(url, "f", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := flatPath(t, st, "f", data2); p3 != want {
		t.Fatalf("changed content: %s, want %s", p3, want)
	}
}

func TestFetchURLPinnedHash(t *testing.T) {
	srv := newServer(t)
	data := []byte("pinned content\n")
	srv.set("/f", data, "")
	st := openStore(t)
	f, clk := newFetcher(t, st)
	h := nixhash.Sum(nixhash.SHA256, data)
	p, err := f.FetchURL(srv.URL+"/f", "pinned", false, h.SRI())
	if err != nil {
		t.Fatal(err)
	}
	if want := flatPath(t, st, "pinned", data); p != want {
		t.Fatalf("path %s, want %s", p, want)
	}
	// Pinned results are reused however old.
	clk.t = clk.t.Add(1000 * time.Hour)
	if _, err := f.FetchURL(srv.URL+"/f", "pinned", false, h.String()); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("/f"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestFetchURLHashMismatchRegistersNothing(t *testing.T) {
	srv := newServer(t)
	srv.set("/f", []byte("actual\n"), "")
	st := openStore(t)
	f, _ := newFetcher(t, st)
	wrong := nixhash.Sum(nixhash.SHA256, []byte("expected\n"))
	_, err := f.FetchURL(srv.URL+"/f", "f", false, wrong.SRI())
	var hm *HashMismatchError
	if !errors.As(err, &hm) {
		t.Fatalf("got %v, want a hash mismatch", err)
	}
	got := nixhash.Sum(nixhash.SHA256, []byte("actual\n"))
	want := fmt.Sprintf("hash mismatch in file downloaded from '%s':\n  specified: %s\n  got:       %s", srv.URL+"/f", wrong.String(), got.String())
	if err.Error() != want {
		t.Fatalf("message:\n%s\nwant:\n%s", err, want)
	}
	if !strings.HasPrefix(wrong.String(), "sha256:") {
		t.Fatalf("hashes are printed as %s", wrong.String())
	}
	paths, err := st.QueryAllValidPaths()
	if err != nil || len(paths) != 0 {
		t.Fatalf("valid paths after a mismatch: %v, %v", paths, err)
	}
	// The same for a tarball.
	tgz := archivetest.Compress("gzip", archivetest.Tar(archivetest.Standard))
	srv.set("/a.tar.gz", tgz, "")
	if _, err := f.FetchURL(srv.URL+"/a.tar.gz", "source", true, wrong.SRI()); !errors.As(err, &hm) {
		t.Fatalf("tarball: got %v, want a hash mismatch", err)
	}
	if paths, _ := st.QueryAllValidPaths(); len(paths) != 0 {
		t.Fatalf("valid paths after a mismatch: %v", paths)
	}
}

func TestFetchURLUnpack(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	f, _ := newFetcher(t, st)
	var first string
	for _, format := range archivetest.Formats {
		data, err := archivetest.Make(format, archivetest.Standard)
		if err != nil {
			t.Fatal(err)
		}
		srv.set("/pkg."+format, data, "")
		p, err := f.FetchURL(srv.URL+"/pkg."+format, "source", true, "")
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		archivetest.CheckStandardCanonical(t, p)
		if first == "" {
			first = p
		} else if p != first {
			t.Errorf("%s: path %s differs from the tar's %s", format, p, first)
		}
	}
	// The path is the recursive SHA-256 one, and pinning its hash works.
	nar, _, err := store.HashPath(nixhash.SHA256, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := st.StoreDir().MakeFixedOutputPath("source", store.RecursiveMethod, nar, nil, false)
	if st.StoreDir().Path(sp) != first {
		t.Fatalf("path %s is not the fixed-output path of its NAR hash", first)
	}
	if p, err := f.FetchURL(srv.URL+"/pkg.tar", "source", true, nar.SRI()); err != nil || p != first {
		t.Fatalf("pinned: %s, %v", p, err)
	}
}

func TestFetchErrors(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	f, _ := newFetcher(t, st)
	_, err := f.FetchURL(srv.URL+"/missing", "m", false, "")
	var de *DownloadError
	if !errors.As(err, &de) || de.Status != 404 || !strings.Contains(err.Error(), srv.URL+"/missing") || !strings.Contains(err.Error(), "HTTP error 404") {
		t.Fatalf("got %v", err)
	}
	srv.set("/notar", []byte(strings.Repeat("plain text\n", 100)), "")
	_, err = f.FetchURL(srv.URL+"/notar", "source", true, "")
	var ae *ArchiveError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), srv.URL+"/notar") {
		t.Fatalf("got %v", err)
	}
}

func TestFetchTree(t *testing.T) {
	srv := newServer(t)
	st := openStore(t)
	f, _ := newFetcher(t, st)
	tgz := archivetest.Compress("gzip", archivetest.Tar(archivetest.Standard))
	srv.set("/a.tar.gz", tgz, "")
	srv.set("/file", []byte("a file\n"), "")

	p, locked, err := f.FetchTree(map[string]any{"type": "tarball", "url": srv.URL + "/a.tar.gz"})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckStandardCanonical(t, p)
	if !strings.HasSuffix(p, "-source") {
		t.Errorf("path %s is not named source", p)
	}
	nar, _, _ := store.HashPath(nixhash.SHA256, p, nil)
	if locked["narHash"] != nar.SRI() || locked["lastModified"] != uint64(archivetest.MTime.Unix()) {
		t.Errorf("locked attributes %v", locked)
	}
	// Locked: the cache answers; a wrong narHash fails.
	if p2, _, err := f.FetchTree(map[string]any{"type": "tarball", "url": srv.URL + "/a.tar.gz", "narHash": nar.SRI()}); err != nil || p2 != p {
		t.Fatalf("locked fetch: %s, %v", p2, err)
	}
	if n := srv.count("/a.tar.gz"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	wrong := nixhash.Sum(nixhash.SHA256, nil)
	_, _, err = f.FetchTree(map[string]any{"type": "tarball", "url": srv.URL + "/a.tar.gz", "narHash": wrong.SRI()})
	var nm *NarHashMismatchError
	if !errors.As(err, &nm) || !strings.Contains(err.Error(), "NAR hash mismatch in input '"+srv.URL+"/a.tar.gz?narHash=sha256-47DEQpj8HBSa%2B/TImW%2B5JCeuQeRkm5NMpJWZG3hSuFU%3D'") {
		t.Fatalf("got %v", err)
	}

	p, locked, err = f.FetchTree(map[string]any{"type": "file", "url": srv.URL + "/file"})
	if err != nil {
		t.Fatal(err)
	}
	if want := flatPath(t, st, "source", []byte("a file\n")); p != want {
		t.Errorf("file: %s, want %s", p, want)
	}
	nar, _, _ = store.HashPath(nixhash.SHA256, p, nil)
	if locked["narHash"] != nar.SRI() {
		t.Errorf("file: locked %v", locked)
	}
	if _, ok := locked["lastModified"]; ok {
		t.Errorf("file: unexpected lastModified")
	}

	// Paths.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "x"), []byte("x"), 0o644)
	p, locked, err = f.FetchTree(map[string]any{"type": "path", "path": src})
	if err != nil {
		t.Fatal(err)
	}
	nar, _, _ = store.HashPath(nixhash.SHA256, src, nil)
	if locked["narHash"] != nar.SRI() || !strings.HasSuffix(p, "-source") {
		t.Errorf("path: %s, %v", p, locked)
	}
	if _, _, err := f.FetchTree(map[string]any{"type": "path", "path": src, "narHash": wrong.SRI()}); !errors.As(err, &nm) {
		t.Errorf("path with a wrong narHash: %v", err)
	}

	if _, _, err := f.FetchTree(map[string]any{"type": "hg", "url": "file:///x"}); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("hg: %v", err)
	}
}

func TestDownload(t *testing.T) {
	srv := newServer(t)
	srv.set("/f", []byte("content"), "")
	var buf bytes.Buffer
	resp, err := Download(context.Background(), srv.URL+"/redirect", &buf, DownloadOptions{})
	if err != nil || buf.String() != "content" || resp.URL != srv.URL+"/f" {
		t.Fatalf("redirect: %q, %+v, %v", buf.String(), resp, err)
	}
	_, err = Download(context.Background(), srv.URL+"/status/503", &buf, DownloadOptions{})
	if err == nil || err.Error() != fmt.Sprintf("unable to download '%s/status/503': HTTP error 503 (Service Unavailable)", srv.URL) {
		t.Fatalf("503: %v", err)
	}
	file := filepath.Join(t.TempDir(), "local file")
	os.WriteFile(file, []byte("local"), 0o644)
	buf.Reset()
	if _, err := Download(context.Background(), "file://"+strings.ReplaceAll(file, " ", "%20"), &buf, DownloadOptions{}); err != nil || buf.String() != "local" {
		t.Fatalf("file URL: %q, %v", buf.String(), err)
	}
	_, err = Download(context.Background(), "file:///nonexistent/x", &buf, DownloadOptions{})
	if err == nil || err.Error() != "unable to download 'file:///nonexistent/x': file '/nonexistent/x' does not exist" {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Download(context.Background(), "ftp://127.0.0.1/x", &buf, DownloadOptions{}); err == nil || !strings.Contains(err.Error(), "unsupported URL scheme 'ftp'") {
		t.Fatalf("ftp: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Download(ctx, srv.URL+"/f", &buf, DownloadOptions{}); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestMatchesNixPrefetchURL compares paths with C++ Nix, when installed:
// nix-prefetch-url into a store whose logical directory is ours.
func TestMatchesNixPrefetchURL(t *testing.T) {
	if _, err := exec.LookPath("nix-prefetch-url"); err != nil {
		t.Skip("nix-prefetch-url is not installed")
	}
	st := openStore(t)
	f, _ := newFetcher(t, st)
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.txt")
	os.WriteFile(file, []byte("hello, nix\n"), 0o644)
	tgz := filepath.Join(dir, "pkg.tar.gz")
	os.WriteFile(tgz, archivetest.Compress("gzip", archivetest.Tar(archivetest.Standard)), 0o644)
	nixStore := fmt.Sprintf("local?root=%s&store=%s", filepath.Join(t.TempDir(), "nixroot"), st.StoreDir())
	prefetch := func(args ...string) string {
		out, err := exec.Command("nix-prefetch-url", append([]string{"--store", nixStore, "--print-path"}, args...)...).Output()
		if err != nil {
			t.Fatalf("nix-prefetch-url %v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return lines[len(lines)-1]
	}
	p, err := f.FetchURL("file://"+file, "hello.txt", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := prefetch("file://" + file); p != want {
		t.Errorf("fetchurl: %s, nix-prefetch-url: %s", p, want)
	}
	p, err = f.FetchURL("file://"+tgz, "source", true, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := prefetch("--unpack", "--name", "source", "file://"+tgz); p != want {
		t.Errorf("fetchTarball: %s, nix-prefetch-url --unpack: %s", p, want)
	}
}
