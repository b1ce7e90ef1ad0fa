package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

type storeTestDirs struct{ store, state string }

func newStoreTestDirs(t *testing.T) storeTestDirs {
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
	return storeTestDirs{store: filepath.Join(base, "store"), state: filepath.Join(base, "var")}
}

// runStore runs 'nixl store SUB --store-dir … --state-dir … ARGS…' in
// process.
func runStore(t *testing.T, d storeTestDirs, stdin io.Reader, sub string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	c := &cli{stdin: stdin, stdout: &stdout, stderr: &stderr}
	full := append([]string{"store", sub, "--store-dir", d.store, "--state-dir", d.state}, args...)
	code := c.main(full)
	if strings.Contains(stderr.String(), "internal error") {
		t.Fatalf("nixl %v panicked: %s", full, stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

func mustRunStore(t *testing.T, d storeTestDirs, sub string, args ...string) string {
	t.Helper()
	code, out, errOut := runStore(t, d, nil, sub, args...)
	if code != 0 {
		t.Fatalf("nixl store %s %v: exit %d: %s", sub, args, code, errOut)
	}
	return out
}

func writeStoreTestTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	for name, data := range map[string]string{"a": "hello\n", "sub/b": "x\n"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "sub/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestStoreCLIAddAndQuery(t *testing.T) {
	d := newStoreTestDirs(t)
	src := writeStoreTestTree(t)
	p := strings.TrimSpace(mustRunStore(t, d, "add", src))
	if !strings.HasPrefix(p, d.store+"/") || !strings.HasSuffix(p, "-src") {
		t.Fatalf("add printed %q", p)
	}
	// Same tree, same path (the tree is the one of the nix-store --add
	// example in realise/store/local: NAR hash 0innpx4p…).
	if again := strings.TrimSpace(mustRunStore(t, d, "add", src)); again != p {
		t.Errorf("second add printed %q", again)
	}

	out := mustRunStore(t, d, "path-info", "--json", "--closure-size", p)
	var infos []map[string]any
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("path-info --json: %v\n%s", err, out)
	}
	if len(infos) != 1 || infos[0]["path"] != p || infos[0]["narSize"] != float64(872) ||
		infos[0]["narHash"] != "sha256-B3JBqjsVEyfdOGpvXSaZ9JWOK7bUklOADx+8f0m/1kY=" ||
		infos[0]["ca"] != "fixed:r:sha256:0innpx4pzg0z1y0574nlnqmqx5glk4k5svva73fjf4qm7fm42wh7" ||
		infos[0]["closureSize"] != float64(872) {
		t.Errorf("path-info --json: %s", out)
	}
	if !strings.HasPrefix(out, `[{"path":"`+p+`","narHash":"sha256-`) {
		t.Errorf("path-info --json key order: %s", out)
	}
	if got, want := mustRunStore(t, d, "path-info", "-s", p), p+"\t        872\n"; got != want {
		t.Errorf("path-info -s: %q, want %q", got, want)
	}

	// A text file referring to the tree, through a 'result'-like symlink.
	link := filepath.Join(t.TempDir(), "result")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if got := mustRunStore(t, d, "path-info", link); got != p+"\n" {
		t.Errorf("path-info through a symlink: %q", got)
	}
	if got := mustRunStore(t, d, "ls", link+"/sub"); got != "./b\n" {
		t.Errorf("ls through a symlink: %q", got)
	}
	if got := mustRunStore(t, d, "cat", link+"/a"); got != "hello\n" {
		t.Errorf("cat through a symlink: %q", got)
	}
	if code, _, errOut := runStore(t, d, nil, "cat", p+"/link"); code != 1 || !strings.Contains(errOut, "not a regular file") {
		t.Errorf("cat of a symlink: %d %q", code, errOut)
	}
	if got := mustRunStore(t, d, "refs", p); got != "" {
		t.Errorf("refs of a source: %q", got)
	}

	if got, want := mustRunStore(t, d, "ls", "-lR", p), strings.Join([]string{
		"-r--r--r--                    6 ./a",
		"lrwxrwxrwx                    0 ./link -> a",
		"dr-xr-xr-x                    0 ./sub",
		"-r-xr-xr-x                    2 ./sub/b",
	}, "\n")+"\n"; got != want {
		t.Errorf("ls -lR:\n%s\nwant:\n%s", got, want)
	}
	if got := mustRunStore(t, d, "ls", p); got != "./a\n./link\n./sub\n" {
		t.Errorf("ls: %q", got)
	}
	if got := mustRunStore(t, d, "ls", p+"/a"); got != "a\n" {
		t.Errorf("ls of a file: %q", got)
	}
	if got := mustRunStore(t, d, "cat", p+"/sub/b"); got != "x\n" {
		t.Errorf("cat: %q", got)
	}

	// dump writes the NAR; restore recreates the tree from it.
	dump := mustRunStore(t, d, "dump", p)
	var want bytes.Buffer
	if _, err := store.DumpPath(&want, src, nil); err != nil {
		t.Fatal(err)
	}
	if dump != want.String() {
		t.Error("dump differs from the NAR of the source")
	}
	if _, err := exec.LookPath("nix-store"); err == nil {
		nixDump, err := exec.Command("nix-store", "--dump", p).Output()
		if err != nil || string(nixDump) != dump {
			t.Errorf("nix-store --dump differs (%v)", err)
		}
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if code, _, errOut := runStore(t, d, strings.NewReader(dump), "restore", restored); code != 0 {
		t.Fatalf("restore: %s", errOut)
	}
	var again bytes.Buffer
	if _, err := store.DumpPath(&again, restored, nil); err != nil || again.String() != dump {
		t.Errorf("restored tree differs (%v)", err)
	}
}

func TestStoreCLIErrors(t *testing.T) {
	d := newStoreTestDirs(t)
	src := writeStoreTestTree(t)
	p := strings.TrimSpace(mustRunStore(t, d, "add", src))
	missing := d.store + "/00000000000000000000000000000000-missing"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"refs", src}, "is not in the store"},
		{[]string{"referrers", missing}, "is not valid"},
		{[]string{"path-info", "/nonexistent"}, "is not in the store"},
		{[]string{"ls", missing}, "is not valid"},
		{[]string{"cat", p}, "is not a regular file"},
		{[]string{"cat", p + "/nope"}, "does not exist"},
		{[]string{"delete", missing}, "is not valid"},
		{[]string{"add", "/nonexistent/file"}, "cannot add '/nonexistent/file'"},
		{[]string{"dump", "/nonexistent"}, "cannot dump"},
		{[]string{"restore", src}, "already exists"},
		{[]string{"refs"}, "missing argument"},
		{[]string{"gc", "--max-freed", "lots"}, "invalid size"},
		{[]string{"bogus"}, "unknown store subcommand"},
	} {
		code, _, errOut := runStore(t, d, nil, tc.args[0], tc.args[1:]...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
	// A directory that belongs to Nix is refused.
	if _, err := os.Stat("/nix/var/nix/db"); err == nil {
		code, _, errOut := runStore(t, storeTestDirs{store: "/nix/store", state: d.state}, nil, "roots")
		if code != 1 || !strings.Contains(errOut, "refusing to use '/nix/store'") {
			t.Errorf("using /nix/store: exit %d, %q", code, errOut)
		}
	}
	if code, out, _ := runStore(t, d, nil, "gc", "--help"); code != 0 || out != "" {
		t.Errorf("gc --help: exit %d", code)
	}
}

func TestStoreCLIGCRootsVerify(t *testing.T) {
	d := newStoreTestDirs(t)
	src := writeStoreTestTree(t)
	link := filepath.Join(t.TempDir(), "result")
	kept := strings.TrimSpace(mustRunStore(t, d, "add", "--add-root", link, src))
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := strings.TrimSpace(mustRunStore(t, d, "add", "--flat", other))

	if got := mustRunStore(t, d, "roots"); got != link+" -> "+kept+"\n" {
		t.Errorf("roots: %q", got)
	}
	if got := mustRunStore(t, d, "gc", "--dry-run"); got != garbage+"\n" {
		t.Errorf("gc --dry-run: %q", got)
	}
	code, out, errOut := runStore(t, d, nil, "delete", kept)
	if code != 1 || !strings.Contains(errOut, "still alive") {
		t.Errorf("delete of a rooted path: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = runStore(t, d, nil, "gc")
	if code != 0 || out != "1 store paths deleted, 0.00 MiB freed\n" || !strings.Contains(errOut, "deleting '"+garbage+"'") {
		t.Errorf("gc: exit %d %q %q", code, out, errOut)
	}

	mustRunStore(t, d, "verify", "--check-contents")
	file := filepath.Join(kept, "a")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("tampered\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runStore(t, d, nil, "verify"); code != 0 {
		t.Error("verify without --check-contents failed")
	}
	code, _, errOut = runStore(t, d, nil, "verify", "--check-contents")
	if code != 1 || !strings.Contains(errOut, "path '"+kept+"' was modified! expected hash 'sha256:0innpx4pzg0z1y0574nlnqmqx5glk4k5svva73fjf4qm7fm42wh7', got 'sha256:") {
		t.Errorf("verify --check-contents of a modified path: exit %d %q", code, errOut)
	}
}
