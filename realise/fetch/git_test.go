package fetch

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepoForTest makes a repository with one commit of a file, an
// executable, a symbolic link and an export-ignore file.
func gitRepoForTest(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
			"GIT_AUTHOR_DATE=2021-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2021-01-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "a"), []byte("one\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "d/x"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("a", filepath.Join(dir, "l"))
	os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("ign export-ignore\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ign"), []byte("ignored\n"), 0o644)
	git("add", "-A")
	git("commit", "-q", "-m", "first")
	git("tag", "v1")
	return dir, git
}

func TestFetchGitLocal(t *testing.T) {
	repo, git := gitRepoForTest(t)
	st := openStore(t)
	f, _ := newFetcher(t, st)
	rev := git("rev-parse", "HEAD")

	p, locked, err := f.FetchTree(map[string]any{"type": "git", "url": "file://" + repo, "exportIgnore": true})
	if err != nil {
		t.Fatal(err)
	}
	if locked["rev"] != rev || locked["revCount"] != uint64(1) || locked["lastModified"] != uint64(1609459200) {
		t.Errorf("locked %v", locked)
	}
	if b, _ := os.ReadFile(filepath.Join(p, "a")); string(b) != "one\n" {
		t.Errorf("a: %q", b)
	}
	if fi, err := os.Stat(filepath.Join(p, "d/x")); err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("d/x: %v, %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(p, "l")); l != "a" {
		t.Errorf("l -> %q", l)
	}
	if _, err := os.Lstat(filepath.Join(p, "ign")); err == nil {
		t.Error("an export-ignore file was included")
	}
	// Without exportIgnore every file is there.
	p2, locked2, err := f.FetchTree(map[string]any{"type": "git", "url": "file://" + repo, "rev": rev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(p2, "ign")); err != nil || p2 == p {
		t.Errorf("without exportIgnore: %s, %v", p2, err)
	}
	// Refs and tags resolve; the narHash is checked.
	for _, ref := range []string{"main", "v1", "refs/heads/main"} {
		p3, _, err := f.FetchTree(map[string]any{"type": "git", "url": repo, "ref": ref, "narHash": locked2["narHash"]})
		if err != nil || p3 != p2 {
			t.Errorf("ref %s: %s, %v", ref, p3, err)
		}
	}
	_, _, err = f.FetchTree(map[string]any{"type": "git", "url": repo, "rev": rev, "narHash": locked["narHash"]})
	var nm *NarHashMismatchError
	if !errors.As(err, &nm) {
		t.Errorf("wrong narHash: %v", err)
	}
	if _, _, err := f.FetchTree(map[string]any{"type": "git", "url": repo, "rev": strings.Repeat("0", 40)}); err == nil || !strings.Contains(err.Error(), "Cannot find Git revision") {
		t.Errorf("missing rev: %v", err)
	}
	if _, _, err := f.FetchTree(map[string]any{"type": "git", "url": "https://127.0.0.1/x.git"}); err == nil || !strings.Contains(err.Error(), "only repositories on the local file system") {
		t.Errorf("remote: %v", err)
	}

	// A dirty work tree: the tracked files as they are, no rev.
	os.WriteFile(filepath.Join(repo, "a"), []byte("two\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "untracked"), []byte("u"), 0o644)
	p4, locked4, err := f.FetchTree(map[string]any{"type": "git", "url": repo})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(p4, "a")); string(b) != "two\n" {
		t.Errorf("dirty a: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(p4, "untracked")); err == nil {
		t.Error("an untracked file was included")
	}
	if _, ok := locked4["rev"]; ok || locked4["dirtyRev"] != rev+"-dirty" || locked4["dirtyShortRev"] != rev[:7]+"-dirty" {
		t.Errorf("dirty locked %v", locked4)
	}
}
