package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

func TestAddTreeWithReferences(t *testing.T) {
	s, _ := newStore(t)
	pkgA, err := s.AddPath("a", writeTree(t, filepath.Join(t.TempDir(), "a"), map[string]string{"bin/a*": "a"}), true, nil)
	must(t, err)
	pkgB, err := s.AddText("b", "b", nil)
	must(t, err)
	src := writeTree(t, filepath.Join(t.TempDir(), "env"), map[string]string{
		"bin/a":         "->" + pkgA + "/bin/a",
		"b":             "->" + pkgB,
		"manifest.json": "{}\n",
	})
	refs := []string{pkgB, pkgA, pkgB}
	p, err := s.AddTreeWithReferences("profile", src, refs)
	must(t, err)
	narHash, _, err := store.HashPath(nixhash.SHA256, src, nil)
	must(t, err)
	spA, _ := s.StoreDir().ParsePath(pkgA)
	spB, _ := s.StoreDir().ParsePath(pkgB)
	want, err := s.StoreDir().MakeSourcePath("profile", narHash, []store.StorePath{spA, spB}, false)
	must(t, err)
	if p != s.StoreDir().Path(want) {
		t.Errorf("path %s, want %s", p, s.StoreDir().Path(want))
	}
	plain, err := s.AddPath("profile", src, true, nil)
	must(t, err)
	if plain == p {
		t.Error("the references do not change the path")
	}
	info, err := s.QueryPathInfo(p)
	must(t, err)
	wantRefs := []string{pkgA, pkgB}
	slices.Sort(wantRefs)
	if !slices.Equal(info.References, wantRefs) || info.CA != "fixed:r:"+narHash.String() || info.NarHash != narHash {
		t.Errorf("info %+v", info)
	}
	if target, err := os.Readlink(filepath.Join(p, "bin/a")); err != nil || target != pkgA+"/bin/a" {
		t.Errorf("bin/a -> %q %v", target, err)
	}
	// Adding it again changes nothing.
	again, err := s.AddTreeWithReferences("profile", src, []string{pkgA, pkgB})
	if err != nil || again != p {
		t.Errorf("again: %s %v", again, err)
	}
	// The references keep their referrer's dependencies: deleting a
	// referenced path is refused.
	if _, err := s.DeletePaths([]string{pkgA}); err == nil {
		t.Error("deleted a path the tree refers to")
	}
	// An invalid reference is refused, and nothing is left behind.
	missing := s.Dir() + "/00000000000000000000000000000000-missing"
	if _, err := s.AddTreeWithReferences("bad", src, []string{missing}); err == nil || !strings.Contains(err.Error(), "which is not valid") {
		t.Errorf("invalid reference: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), tmpDirName))
	if len(entries) != 0 {
		t.Errorf("left in %s: %v", tmpDirName, entries)
	}
	for _, e := range mustReadDir(t, s.Dir()) {
		if strings.HasSuffix(e, "-bad") {
			t.Errorf("%s left in the store", e)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestAddAsUnprivilegedUser runs TestAddTreeWithReferences (which adds
// directories with AddPath and AddTreeWithReferences) as a user without
// privileges: moving a read-only directory into the store needs write
// permission on it, which only root has without asking.
func TestAddAsUnprivilegedUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to another user (as any other user, the other tests cover it)")
	}
	exe, err := os.Executable()
	must(t, err)
	// Not t.TempDir(), whose parent only we may enter.
	dir, err := os.MkdirTemp("", "nixl-unprivileged-")
	must(t, err)
	t.Cleanup(func() { makeWritable(dir); os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "local.test")
	data, err := os.ReadFile(exe)
	must(t, err)
	must(t, os.WriteFile(bin, data, 0o755))
	tmp := filepath.Join(dir, "tmp")
	must(t, os.Mkdir(tmp, 0o755))
	must(t, os.Chmod(tmp, 0o1777))
	cmd := exec.Command(bin, "-test.run", "^TestAddTreeWithReferences$", "-test.v")
	cmd.Env = []string{"TMPDIR=" + tmp, "HOME=" + tmp, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestAddTreeWithReferences") {
		t.Fatalf("as uid 65534: %v\n%s", err, out)
	}
}
