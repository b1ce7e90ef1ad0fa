package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/nixl-project/nixl/realise/store/local"
)

// substFile writes an expression whose builders succeed only while the
// file marker exists: a build that happens without it fails, so a
// success proves substitution. top uses dep; other is independent.
func substFile(t *testing.T, dir, marker string) string {
	t.Helper()
	mk := func(name, extra string) string {
		return fmt.Sprintf(`derivation { name = %q; system = builtins.currentSystem; builder = "/bin/sh"; %s
    args = [ "-c" "if [ -e %s ]; then echo built-%s $dep > $out; else echo '%s must not be built' >&2; exit 1; fi" ]; }`,
			name, extra, marker, name, name)
	}
	src := fmt.Sprintf("rec {\n  dep = %s;\n  top = %s;\n  other = %s;\n}\n", mk("dep", ""), mk("top", "inherit dep;"), mk("other", ""))
	p := filepath.Join(dir, "subst.nix")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// freshStore empties the store directory and gives the environment a new
// state directory: another machine with the same store directory.
func freshStore(t *testing.T, b buildEnv, name string) buildEnv {
	t.Helper()
	exec.Command("chmod", "-R", "u+w", b.store).Run()
	if err := os.RemoveAll(b.store); err != nil {
		t.Fatal(err)
	}
	return buildEnv{dir: b.dir, store: b.store, state: filepath.Join(b.dir, name)}
}

func isValidIn(t *testing.T, b buildEnv, p string) bool {
	t.Helper()
	st, err := local.Open(local.Options{StoreDir: b.store, StateDir: b.state})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok, err := st.IsValidPath(p)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestBuildSubstitutes builds with an HTTP binary cache holding dep and
// other (made by nixl copy --to, signed): they are fetched rather than
// built, top is built, a bad signature or a corrupt NAR registers nothing
// and falls back to building, and the configuration file works as the
// flags do.
func TestBuildSubstitutes(t *testing.T) {
	t.Setenv("NIXL_CONF_FILE", filepath.Join(t.TempDir(), "absent.conf"))
	t.Setenv("NIXL_CONFIG", "")
	b := newBuildEnv(t)
	marker := filepath.Join(b.dir, "marker")
	file := substFile(t, b.dir, marker)
	keys := t.TempDir()
	sk, pk := filepath.Join(keys, "sk"), filepath.Join(keys, "pk")
	b.mustNixl(t, "store", "generate-key", "--name", "test-cache-1", "--secret", sk, "--public", pk)
	pubKey := strings.TrimSpace(string(mustRead(t, pk)))

	// Machine A builds dep and other and copies them to the cache
	// (uncompressed NARs, so that the test can corrupt one).
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := b.mustNixl(t, "build", file, "-A", "dep", "-A", "other", "--no-link", "--sandbox=off")
	paths := strings.Fields(out)
	if len(paths) != 2 {
		t.Fatalf("built %q", out)
	}
	depOut, otherOut := paths[0], paths[1]
	cacheDir := filepath.Join(b.dir, "cache")
	b.mustNixl(t, "copy", "--to", "file://"+cacheDir, "--compression", "none", "--secret-key", sk, depOut, otherOut)
	srv := httptest.NewServer(http.FileServer(http.Dir(cacheDir)))
	defer srv.Close()
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	substFlags := []string{"--sandbox=off", "--no-link", "--substituters", srv.URL, "--trusted-public-keys", pubKey}

	// Machine B: top is built (the marker is back for it), dep is fetched.
	b = freshStore(t, b, "var-b")
	os.WriteFile(marker, nil, 0o644)
	code, out, errOut := b.nixl(t, append([]string{"build", file, "-A", "top"}, substFlags...)...)
	if code != 0 {
		t.Fatalf("build top: %d %s", code, errOut)
	}
	topOut := strings.TrimSpace(out)
	if got := string(mustRead(t, topOut)); got != "built-top "+depOut+"\n" {
		t.Errorf("top %q", got)
	}
	if got := string(mustRead(t, depOut)); got != "built-dep\n" {
		t.Errorf("dep %q", got)
	}
	for _, want := range []string{
		"this path will be fetched:\n  " + depOut + "\n",
		fmt.Sprintf("copying path '%s' from '%s'...\n", depOut, srv.URL),
		"building '",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Count(errOut, "building '") != 1 || strings.Contains(errOut, "dep.drv'...") {
		t.Errorf("more than top was built:\n%s", errOut)
	}
	os.Remove(marker)
	// other's builder would fail: it must come from the cache, signed.
	code, out, errOut = b.nixl(t, append([]string{"build", file, "-A", "other"}, substFlags...)...)
	if code != 0 || strings.TrimSpace(out) != otherOut || strings.Contains(errOut, "building '") {
		t.Fatalf("build other: %d %q %s", code, out, errOut)
	}
	info, _ := b.mustNixl(t, "store", "path-info", "--json", otherOut)
	if !strings.Contains(info, `"test-cache-1:`) {
		t.Errorf("no signature recorded: %s", info)
	}
	// Without substituters, nothing is fetched: the build fails.
	b = freshStore(t, b, "var-c")
	if code, _, errOut := b.nixl(t, "build", file, "-A", "other", "--sandbox=off", "--no-link"); code != 1 || !strings.Contains(errOut, "other must not be built") {
		t.Errorf("build without substituters: %d %s", code, errOut)
	}

	// A key the cache did not sign with: not trusted, nothing fetched,
	// the fallback build fails, nothing is valid.
	b = freshStore(t, b, "var-d")
	b.mustNixl(t, "store", "generate-key", "--name", "other-1", "--secret", sk+"2", "--public", pk+"2")
	wrongKey := strings.TrimSpace(string(mustRead(t, pk+"2")))
	code, _, errOut = b.nixl(t, "build", file, "-A", "other", "--sandbox=off", "--no-link", "--substituters", srv.URL, "--trusted-public-keys", wrongKey)
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("warning: substituter '%s' does not have a valid signature for path '%s'", srv.URL, otherOut)) ||
		!strings.Contains(errOut, "other must not be built") || strings.Contains(errOut, "copying path") {
		t.Errorf("wrong key: %d %s", code, errOut)
	}
	if isValidIn(t, b, otherOut) {
		t.Error("an untrusted path was registered")
	}

	// A corrupt NAR (same size, one byte changed): the hash check fails,
	// nothing is registered, the fallback build fails.
	nars, _ := filepath.Glob(filepath.Join(cacheDir, "nar", "*.nar"))
	var corrupted bool
	for _, n := range nars {
		data := mustRead(t, n)
		if i := bytes.Index(data, []byte("built-other")); i >= 0 {
			data[i] = 'B'
			if err := os.WriteFile(n, data, 0o644); err != nil {
				t.Fatal(err)
			}
			corrupted = true
		}
	}
	if !corrupted {
		t.Fatalf("no NAR of other among %v", nars)
	}
	b = freshStore(t, b, "var-e")
	code, _, errOut = b.nixl(t, append([]string{"build", file, "-A", "other"}, substFlags...)...)
	if code != 1 || !strings.Contains(errOut, "hash mismatch in the NAR of '"+otherOut+"'") ||
		!strings.Contains(errOut, "could not be substituted; building it instead") || !strings.Contains(errOut, "other must not be built") {
		t.Errorf("corrupt NAR: %d %s", code, errOut)
	}
	if isValidIn(t, b, otherOut) {
		t.Error("a corrupt path was registered")
	}
	if _, err := os.Lstat(otherOut); err == nil {
		t.Error("the corrupt download was left at the output path")
	}
	if entries, _ := os.ReadDir(filepath.Join(b.store, ".nixl-tmp")); len(entries) != 0 {
		t.Errorf("staging left behind: %v", entries)
	}

	// The configuration file: substituters and trusted-public-keys as in
	// nix.conf.
	conf := filepath.Join(b.dir, "nixl.conf")
	os.WriteFile(conf, []byte("# test\nsubstituters = "+srv.URL+"\ntrusted-public-keys = "+pubKey+"\n"), 0o644)
	t.Setenv("NIXL_CONF_FILE", conf)
	b = freshStore(t, b, "var-f")
	code, out, errOut = b.nixl(t, "build", file, "-A", "dep", "--sandbox=off", "--no-link")
	if code != 0 || strings.TrimSpace(out) != depOut || !strings.Contains(errOut, "copying path '"+depOut+"'") {
		t.Errorf("with the configuration file: %d %q %s", code, out, errOut)
	}
	// --substituters '' disables them.
	b = freshStore(t, b, "var-g")
	if code, _, errOut := b.nixl(t, "build", file, "-A", "dep", "--sandbox=off", "--no-link", "--substituters", ""); code != 1 || strings.Contains(errOut, "copying path") {
		t.Errorf("--substituters '': %d %s", code, errOut)
	}
	// An unreachable cache is a warning; the build goes on (and fails).
	srv.Close()
	if code, _, errOut := b.nixl(t, "build", file, "-A", "dep", "--sandbox=off", "--no-link"); code != 1 || !strings.Contains(errOut, "warning: ") || !strings.Contains(errOut, "dep must not be built") {
		t.Errorf("unreachable cache: %d %s", code, errOut)
	}
}

// TestProfileInstallSubstitutes: nixl profile install fetches from a
// binary cache too (a compressed one, in a directory).
func TestProfileInstallSubstitutes(t *testing.T) {
	t.Setenv("NIXL_CONF_FILE", filepath.Join(t.TempDir(), "absent.conf"))
	t.Setenv("NIXL_CONFIG", "")
	b := newBuildEnv(t)
	marker := filepath.Join(b.dir, "marker")
	file := substFile(t, b.dir, marker)
	os.WriteFile(marker, nil, 0o644)
	out, _ := b.mustNixl(t, "build", file, "-A", "other", "--no-link", "--sandbox=off")
	otherOut := strings.TrimSpace(out)
	cacheDir := filepath.Join(b.dir, "cache")
	b.mustNixl(t, "copy", "--to", "file://"+cacheDir, "--compression", "xz", otherOut)
	os.Remove(marker)
	// A content check of the compressed NAR, so the test knows the
	// cache is what it thinks.
	nars, _ := filepath.Glob(filepath.Join(cacheDir, "nar", "*.nar.xz"))
	if len(nars) != 1 {
		t.Fatalf("NARs %v", nars)
	}
	if r, err := xz.NewReader(bytes.NewReader(mustRead(t, nars[0]))); err != nil || r == nil {
		t.Fatalf("not xz: %v", err)
	}
	b = freshStore(t, b, "var-b")
	// Unsigned: only accepted with require-sigs = false.
	t.Setenv("NIXL_CONFIG", "require-sigs = false")
	_, errOut := b.mustNixl(t, "profile", "install", file, "-A", "other", "--sandbox=off", "--substituters", "file://"+cacheDir)
	if !strings.Contains(errOut, "copying path '"+otherOut+"'") || !strings.Contains(errOut, "installing 'other'") {
		t.Errorf("install: %s", errOut)
	}
	m := b.manifestOf(t)
	if len(m.Elements) != 1 || m.Elements[0].StorePaths[0] != otherOut {
		t.Errorf("manifest %+v", m)
	}
}
