package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
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
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// countingServer serves fixed files on 127.0.0.1 and counts requests.
type countingServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	n     map[string]int
}

func newCountingServer(t *testing.T, files map[string][]byte) *countingServer {
	s := &countingServer{files: files, n: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n[r.URL.Path]++
		data, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[path]
}

// evalIn runs 'nixl eval' on the test store in process.
func evalIn(t *testing.T, d storeTestDirs, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("NIXL_STATE_DIR", d.state)
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := c.main(append([]string{"eval", "--store-dir", d.store}, args...))
	if strings.Contains(stderr.String(), "internal error") {
		t.Fatalf("nixl eval %v panicked: %s", args, stderr.String())
	}
	return code, strings.TrimSpace(stdout.String()), stderr.String()
}

func mustEvalIn(t *testing.T, d storeTestDirs, args ...string) string {
	t.Helper()
	code, out, errOut := evalIn(t, d, args...)
	if code != 0 {
		t.Fatalf("nixl eval %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// nixPrefetch runs nix-prefetch-url into a private store whose logical
// directory is the test store's, returning the hash and path it prints.
func nixPrefetch(t *testing.T, d storeTestDirs, args ...string) (string, string, bool) {
	t.Helper()
	if _, err := exec.LookPath("nix-prefetch-url"); err != nil {
		return "", "", false
	}
	nixStore := fmt.Sprintf("local?root=%s&store=%s", filepath.Join(t.TempDir(), "nixroot"), d.store)
	out, err := exec.Command("nix-prefetch-url", append([]string{"--store", nixStore, "--print-path"}, args...)...).Output()
	if err != nil {
		t.Fatalf("nix-prefetch-url %v: %v", args, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("nix-prefetch-url printed %q", out)
	}
	return f[0], f[1], true
}

func validPaths(t *testing.T, d storeTestDirs) []string {
	t.Helper()
	st, err := local.Open(local.Options{StoreDir: d.store, StateDir: d.state})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	paths, err := st.QueryAllValidPaths()
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestEvalFetchurl(t *testing.T) {
	d := newStoreTestDirs(t)
	content := []byte("fetched by nixl\n")
	srv := newCountingServer(t, map[string][]byte{"/f": content})
	url := srv.URL + "/f"
	h := nixhash.Sum(nixhash.SHA256, content)
	sp, _ := store.Dir(d.store).MakeFixedOutputPath("f", store.FlatMethod, h, nil, false)
	wantPath := store.Dir(d.store).Path(sp)
	wantHash := h.NixBase32()
	if nixHash, nixPath, ok := nixPrefetch(t, d, url); ok {
		if nixHash != wantHash || nixPath != wantPath {
			t.Fatalf("nix-prefetch-url gives %s %s, we expect %s %s", nixHash, nixPath, wantHash, wantPath)
		}
	}
	nixRequests := srv.count("/f")

	expr := fmt.Sprintf(`builtins.fetchurl { url = "%s"; sha256 = "%s"; }`, url, wantHash)
	if out := mustEvalIn(t, d, "-E", expr); out != `"`+wantPath+`"` {
		t.Fatalf("got %s, want %s", out, wantPath)
	}
	if b, err := os.ReadFile(wantPath); err != nil || !bytes.Equal(b, content) {
		t.Fatalf("store path contents %q, %v", b, err)
	}
	if n := srv.count("/f") - nixRequests; n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	// Evaluating again needs no download, pinned or not: the pinned
	// download was recorded in the cache, whose entry is fresh (the TTL).
	mustEvalIn(t, d, "-E", expr)
	if out := mustEvalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchurl "%s"`, url)); out != `"`+wantPath+`"` {
		t.Fatalf("unpinned: got %s", out)
	}
	mustEvalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchurl "%s"`, url))
	if n := srv.count("/f") - nixRequests; n != 1 {
		t.Fatalf("%d requests after four evaluations, want 1", n)
	}
	// The string has the path as its context.
	if out := mustEvalIn(t, d, "-E", fmt.Sprintf(`builtins.attrNames (builtins.getContext (builtins.fetchurl "%s"))`, url)); out != `[ "`+wantPath+`" ]` {
		t.Errorf("context: %s", out)
	}
}

func TestEvalFetchurlHashMismatch(t *testing.T) {
	d := newStoreTestDirs(t)
	content := []byte("the real content\n")
	srv := newCountingServer(t, map[string][]byte{"/f": content})
	wrong := nixhash.Sum(nixhash.SHA256, []byte("something else"))
	code, _, errOut := evalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchurl { url = "%s/f"; sha256 = "%s"; }`, srv.URL, wrong.NixBase32()))
	if code == 0 {
		t.Fatal("a wrong hash was accepted")
	}
	got := nixhash.Sum(nixhash.SHA256, content)
	for _, want := range []string{
		fmt.Sprintf("error: hash mismatch in file downloaded from '%s/f':", srv.URL),
		"specified: sha256:" + wrong.NixBase32(),
		"got:       sha256:" + got.NixBase32(),
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if paths := validPaths(t, d); len(paths) != 0 {
		t.Errorf("valid paths after a mismatch: %v", paths)
	}
	// 404s name the URL and the status.
	code, _, errOut = evalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchurl "%s/missing"`, srv.URL))
	if code == 0 || !strings.Contains(errOut, fmt.Sprintf("unable to download '%s/missing': HTTP error 404", srv.URL)) {
		t.Errorf("404: exit %d, %s", code, errOut)
	}
}

func TestEvalFetchTarballAndTree(t *testing.T) {
	d := newStoreTestDirs(t)
	tgz := tarGz(t, map[string]string{"pkg-1.0/README": "hello, archive\n", "pkg-1.0/bin/hi": "#!/bin/sh\n"})
	srv := newCountingServer(t, map[string][]byte{"/pkg.tar.gz": tgz, "/file": []byte("plain\n")})
	url := srv.URL + "/pkg.tar.gz"
	out := mustEvalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchTarball "%s"`, url))
	p := strings.Trim(out, `"`)
	if b, err := os.ReadFile(filepath.Join(p, "README")); err != nil || string(b) != "hello, archive\n" {
		t.Fatalf("README in %s: %q, %v", p, b, err)
	}
	nar, _, err := store.HashPath(nixhash.SHA256, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nixHash, nixPath, ok := nixPrefetch(t, d, "--unpack", "--name", "source", url); ok && (nixPath != p || nixHash != nar.NixBase32()) {
		t.Errorf("nix-prefetch-url --unpack gives %s %s, we %s %s", nixHash, nixPath, nar.NixBase32(), p)
	}
	// Pinned, in pure mode.
	pinned := fmt.Sprintf(`builtins.fetchTarball { url = "%s"; sha256 = "%s"; }`, url, nar.NixBase32())
	if out := mustEvalIn(t, d, "--pure-eval", "-E", pinned); out != `"`+p+`"` {
		t.Errorf("pinned: %s", out)
	}
	code, _, errOut := evalIn(t, d, "--pure-eval", "-E", fmt.Sprintf(`builtins.fetchTarball "%s"`, url))
	if code == 0 || !strings.Contains(errOut, "in pure evaluation mode, 'fetchTarball' requires a 'sha256' argument") {
		t.Errorf("pure, unpinned: exit %d, %s", code, errOut)
	}
	// fetchTree.
	tree := fmt.Sprintf(`let t = builtins.fetchTree { type = "tarball"; url = "%s"; narHash = "%s"; }; in [ t.outPath t.narHash t.lastModified ]`, url, nar.SRI())
	if out := mustEvalIn(t, d, "--pure-eval", "--strict", "-E", tree); out != fmt.Sprintf(`[ "%s" "%s" %d ]`, p, nar.SRI(), tarMTime.Unix()) {
		t.Errorf("fetchTree tarball: %s", out)
	}
	fileNar, _, _ := store.HashPath(nixhash.SHA256, writeTemp(t, "plain\n"), nil)
	flat := nixhash.Sum(nixhash.SHA256, []byte("plain\n"))
	sp, _ := store.Dir(d.store).MakeFixedOutputPath("source", store.FlatMethod, flat, nil, false)
	file := fmt.Sprintf(`(builtins.fetchTree { type = "file"; url = "%s/file"; narHash = "%s"; }).outPath`, srv.URL, fileNar.SRI())
	if out := mustEvalIn(t, d, "-E", file); out != `"`+store.Dir(d.store).Path(sp)+`"` {
		t.Errorf("fetchTree file: %s", out)
	}
	code, _, errOut = evalIn(t, d, "-E", fmt.Sprintf(`builtins.fetchTree { type = "file"; url = "%s/file"; narHash = "%s"; }`, srv.URL, nar.SRI()))
	if code == 0 || !strings.Contains(errOut, "NAR hash mismatch in input") {
		t.Errorf("fetchTree file, wrong narHash: exit %d, %s", code, errOut)
	}
	if n := srv.count("/pkg.tar.gz"); n > 2 {
		t.Errorf("%d requests for the tarball", n)
	}
}

func writeTemp(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var tarMTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// tarGz makes a .tar.gz of the given files (a "bin/" file is executable).
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		mode := int64(0o644)
		if strings.Contains(name, "/bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: tarMTime, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}
