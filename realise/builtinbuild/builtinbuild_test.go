package builtinbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/fetch"
	"github.com/nixl-project/nixl/realise/internal/archivetest"
	"github.com/nixl-project/nixl/realise/store"
)

// files serves fixed contents on 127.0.0.1, counting requests.
type files struct {
	*httptest.Server
	mu     sync.Mutex
	data   map[string][]byte
	counts map[string]int
}

func serve(t *testing.T, data map[string][]byte) *files {
	f := &files{data: data, counts: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[r.URL.Path]++
		d, ok := f.data[r.URL.Path]
		f.mu.Unlock()
		if target, isRedirect := strings.CutPrefix(r.URL.Path, "/redirect"); isRedirect {
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(d)
	}))
	t.Cleanup(f.Close)
	return f
}

// run runs a builtin builder with the given environment and returns the
// output path and the log.
func run(t *testing.T, builder string, env map[string]string) (string, string, error) {
	t.Helper()
	b, ok := Lookup(builder)
	if !ok {
		t.Fatalf("no builder %s", builder)
	}
	out := filepath.Join(t.TempDir(), "out")
	full := map[string]string{"out": out}
	for k, v := range env {
		full[k] = v
	}
	drvEnv := map[string]string{}
	for k, v := range full {
		drvEnv[k] = v
	}
	var log bytes.Buffer
	err := b(&Context{
		Drv:      &derivation.Derivation{Name: "test", Builder: builder, Platform: "builtin", Env: drvEnv},
		Outputs:  map[string]string{"out": out},
		Env:      full,
		BuildDir: t.TempDir(),
		StoreDir: "/nix/store",
		Log:      &log,
		Ctx:      context.Background(),
	})
	return out, log.String(), err
}

func TestLookup(t *testing.T) {
	for _, n := range []string{"builtin:fetchurl", "builtin:unpack-tarball", "builtin:unpack-channel", "builtin:buildenv",
		"builtin:oci-image", "builtin:oci-index", "builtin:oci-pull", "builtin:oci-rootfs"} {
		if _, ok := Lookup(n); !ok {
			t.Errorf("Lookup(%s) failed", n)
		}
	}
	if _, ok := Lookup("builtin:nope"); ok {
		t.Error("Lookup(builtin:nope) succeeded")
	}
	if len(Builders()) != 8 {
		t.Errorf("Builders() = %v", Builders())
	}
}

func TestFetchurlFlat(t *testing.T) {
	srv := serve(t, map[string][]byte{"/f": []byte("hello\n"), "/script": []byte("#!/bin/sh\n")})
	out, log, err := run(t, "builtin:fetchurl", map[string]string{"url": srv.URL + "/f", "outputHash": "x", "outputHashMode": "flat"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "hello\n" {
		t.Errorf("output %q", b)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm()&0o111 != 0 {
		t.Errorf("output is executable: %v", fi.Mode())
	}
	if !strings.Contains(log, "downloading '"+srv.URL+"/f'") {
		t.Errorf("log %q", log)
	}
	// executable = "1"; through a redirect.
	out, _, err = run(t, "builtin:fetchurl", map[string]string{"url": srv.URL + "/redirect/script", "executable": "1", "unpack": ""})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("executable output: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(out); string(b) != "#!/bin/sh\n" {
		t.Errorf("output %q", b)
	}
	// file:// URLs.
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("from a file"), 0o600)
	out, _, err = run(t, "builtin:fetchurl", map[string]string{"url": "file://" + src})
	if b, _ := os.ReadFile(out); err != nil || string(b) != "from a file" {
		t.Fatalf("file URL: %q, %v", b, err)
	}
}

func TestFetchurlErrors(t *testing.T) {
	srv := serve(t, map[string][]byte{"/f": []byte("ok")})
	out, _, err := run(t, "builtin:fetchurl", map[string]string{"url": srv.URL + "/missing"})
	var de *fetch.DownloadError
	if !errors.As(err, &de) || de.Status != 404 {
		t.Fatalf("got %v, want a 404 download error", err)
	}
	if want := fmt.Sprintf("unable to download '%s/missing': HTTP error 404 (Not Found)", srv.URL); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if _, err := os.Lstat(out); err == nil {
		t.Errorf("a failed download left an output")
	}
	if _, _, err := run(t, "builtin:fetchurl", map[string]string{}); err == nil || err.Error() != "attribute 'url' missing" {
		t.Errorf("no url: %v", err)
	}
	// urls: the first that works.
	out, log, err := run(t, "builtin:fetchurl", map[string]string{"urls": srv.URL + "/missing " + srv.URL + "/f"})
	if b, _ := os.ReadFile(out); err != nil || string(b) != "ok" {
		t.Fatalf("urls: %q, %v", b, err)
	}
	if !strings.Contains(log, "HTTP error 404") {
		t.Errorf("urls: the failure of the first is not logged: %q", log)
	}
}

func TestFetchurlUnpackNAR(t *testing.T) {
	tree := t.TempDir()
	os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
	os.WriteFile(filepath.Join(tree, "bin/tool"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(tree, "README"), []byte("read me"), 0o644)
	os.Symlink("bin/tool", filepath.Join(tree, "link"))
	var nar bytes.Buffer
	if _, err := store.DumpPath(&nar, tree, nil); err != nil {
		t.Fatal(err)
	}
	want, _, _ := store.HashPath(nixhash.SHA256, tree, nil)
	srv := serve(t, map[string][]byte{"/t.nar": nar.Bytes(), "/t.nar.xz": archivetest.Compress("xz", nar.Bytes()), "/t.nar.zst": archivetest.Compress("zstd", nar.Bytes())})
	for _, name := range []string{"/t.nar", "/t.nar.xz", "/t.nar.zst"} {
		out, _, err := run(t, "builtin:fetchurl", map[string]string{"url": srv.URL + name, "unpack": "1", "outputHashMode": "recursive"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _, err := store.HashPath(nixhash.SHA256, out, nil)
		if err != nil || got != want {
			t.Errorf("%s: NAR hash %v (%v), want %v", name, got, err, want)
		}
	}
	srv.data["/bad.nar"] = []byte("not a nar")
	if _, _, err := run(t, "builtin:fetchurl", map[string]string{"url": srv.URL + "/bad.nar", "unpack": "1"}); err == nil || !strings.Contains(err.Error(), "not a valid NAR") {
		t.Errorf("bad NAR: %v", err)
	}
}

// Golden values: what nix-prefetch-url prints for "hello\n" in
// /nix/store, whose builtin:fetchurl output must be the same file.
const (
	goldenHelloHash = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"
	goldenHelloPath = "/nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f"
	goldenHelloNar  = "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM="
)

func TestFetchurlMatchesNix(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "f")
	os.WriteFile(src, []byte("hello\n"), 0o644)
	out, _, err := run(t, "builtin:fetchurl", map[string]string{"url": "file://" + src})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	flat := nixhash.Sum(nixhash.SHA256, data)
	sp, err := store.DefaultDir.MakeFixedOutputPath("f", store.FlatMethod, flat, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	nar, _, err := store.HashPath(nixhash.SHA256, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if flat.NixBase32() != goldenHelloHash || store.DefaultDir.Path(sp) != goldenHelloPath || nar.SRI() != goldenHelloNar {
		t.Errorf("got %s %s %s, want the golden %s %s %s", flat.NixBase32(), store.DefaultDir.Path(sp), nar.SRI(), goldenHelloHash, goldenHelloPath, goldenHelloNar)
	}
	if _, err := exec.LookPath("nix-prefetch-url"); err != nil {
		t.Skip("nix-prefetch-url is not installed; checked the golden values only")
	}
	// C++ Nix, into a private store whose logical directory is /nix/store.
	nixStore := "local?root=" + filepath.Join(t.TempDir(), "root")
	b, err := exec.Command("nix-prefetch-url", "--store", nixStore, "--print-path", "file://"+src).Output()
	if err != nil {
		t.Fatalf("nix-prefetch-url: %v", err)
	}
	if got := strings.Fields(string(b)); len(got) != 2 || got[0] != flat.NixBase32() || got[1] != store.DefaultDir.Path(sp) {
		t.Errorf("nix-prefetch-url printed %q, we have %s %s", b, flat.NixBase32(), store.DefaultDir.Path(sp))
	}
	b, err = exec.Command("nix-hash", "--type", "sha256", "--base32", out).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	if strings.TrimSpace(string(b)) != nar.NixBase32() {
		t.Errorf("nix-hash: %s, we have %s", b, nar.NixBase32())
	}
}

func TestUnpackTarball(t *testing.T) {
	dir := t.TempDir()
	data := map[string][]byte{}
	for _, format := range archivetest.Formats {
		b, err := archivetest.Make(format, archivetest.Standard)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "pkg."+format)
		os.WriteFile(p, b, 0o644)
		data["/pkg."+format] = b
		out, _, err := run(t, "builtin:unpack-tarball", map[string]string{"src": p})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		archivetest.CheckStandard(t, out)
	}
	srv := serve(t, data)
	out, _, err := run(t, "builtin:unpack-tarball", map[string]string{"url": srv.URL + "/redirect/pkg.tar.xz"})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckStandard(t, out)
	// stripRoot = false keeps the top directory.
	out, _, err = run(t, "builtin:unpack-tarball", map[string]string{"src": filepath.Join(dir, "pkg.tar"), "stripRoot": ""})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckStandard(t, filepath.Join(out, "pkg-1.0"))
	// Escapes are refused.
	evil := filepath.Join(dir, "evil.tar")
	os.WriteFile(evil, archivetest.Tar([]archivetest.Entry{{Name: "ok", Kind: 'f', Data: "x", Mode: 0o644}, {Name: "../x", Kind: 'f', Data: "evil", Mode: 0o644}}), 0o644)
	out, _, err = run(t, "builtin:unpack-tarball", map[string]string{"src": evil})
	var ae *fetch.ArchiveError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "'../x'") {
		t.Fatalf("escape: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "x")); err == nil {
		t.Fatal("the escaping entry was written")
	}
	if _, _, err := run(t, "builtin:unpack-tarball", map[string]string{}); err == nil || err.Error() != "attribute 'src' missing" {
		t.Errorf("no src: %v", err)
	}
	if _, _, err := run(t, "builtin:unpack-tarball", map[string]string{"url": srv.URL + "/missing.tar"}); err == nil || !strings.Contains(err.Error(), "HTTP error 404") {
		t.Errorf("404: %v", err)
	}
}

func TestUnpackChannel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "chan.tar.xz")
	b, _ := archivetest.Make("tar.xz", archivetest.Standard)
	os.WriteFile(p, b, 0o644)
	out, _, err := run(t, "builtin:unpack-channel", map[string]string{"src": p, "channelName": "nixpkgs"})
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckStandard(t, filepath.Join(out, "nixpkgs"))
	two := filepath.Join(t.TempDir(), "two.tar")
	os.WriteFile(two, archivetest.Tar([]archivetest.Entry{{Name: "a", Kind: 'f', Mode: 0o644}, {Name: "b", Kind: 'f', Mode: 0o644}}), 0o644)
	if _, _, err := run(t, "builtin:unpack-channel", map[string]string{"src": two, "channelName": "x"}); err == nil || !strings.Contains(err.Error(), "contains more than one file") {
		t.Errorf("two entries: %v", err)
	}
}
