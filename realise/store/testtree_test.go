package store

import (
	"os"
	"path/filepath"
	"testing"
)

// buildTestTree creates, under parent, a tree exercising every NAR feature:
// all node types, the executable bit (including execute bits that Nix
// ignores), padding boundaries, byte-order sorting of unicode and mixed-case
// names, dangling and absolute symlinks, and empty directories. Only the
// properties NAR records are set, so the tree's NAR is deterministic.
func buildTestTree(t testing.TB, parent string) string {
	t.Helper()
	root := filepath.Join(parent, "tree")
	dirs := []string{"", "empty-dir", "nested", "nested/a", "nested/a/b", "nested/a/b/c", "names"}
	for _, d := range dirs {
		mustDo(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"file.txt", "hello, world\n", 0o644},
		{"zero-bytes", "", 0o644},
		{"eight-bytes", "12345678", 0o644},
		{"seven-bytes", "1234567", 0o644},
		{"nine-bytes", "123456789", 0o644},
		{"script.sh", "#!/bin/sh\necho hi\n", 0o755},
		{"owner-exec-only", "x", 0o744},
		{"group-exec-only", "not executable for Nix", 0o654},
		{"empty-exec", "", 0o755},
		{"nested/a/b/c/deep.txt", "deep\n", 0o644},
		{"nested/a/tool", "\x00\x01\x02binary\xff", 0o700},
		{"names/héllo", "accent", 0o644},
		{"names/日本語.txt", "kanji", 0o644},
		{"names/Zebra", "upper", 0o644},
		{"names/apple", "lower", 0o644},
		{"names/B", "B", 0o644},
		{"names/a-b", "dash", 0o644},
		{"names/a.b", "dot", 0o644},
		{"names/a_b", "underscore", 0o644},
		{"names/a", "a", 0o644},
		{"names/a0", "a0", 0o644},
		{"names/.hidden", "hidden", 0o644},
		{"names/with space", "space", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		mustDo(t, os.WriteFile(p, []byte(f.data), 0o600))
		mustDo(t, os.Chmod(p, f.mode)) // not subject to the umask
	}
	links := []struct{ path, target string }{
		{"link-to-file", "file.txt"},
		{"dangling", "does/not/exist"},
		{"absolute", "/nix/store/00000000000000000000000000000000-missing"},
		{"nested/up", "../file.txt"},
		{"link-to-dir", "nested/a"},
	}
	for _, l := range links {
		mustDo(t, os.Symlink(l.target, filepath.Join(root, l.path)))
	}
	return root
}

// writeBigFile writes size deterministic, poorly compressible bytes.
func writeBigFile(t testing.TB, path string, size int) {
	t.Helper()
	data := make([]byte, size)
	state := uint32(2463534242)
	for i := range data {
		state ^= state << 13
		state ^= state >> 17
		state ^= state << 5
		data[i] = byte(state)
	}
	mustDo(t, os.WriteFile(path, data, 0o644))
	mustDo(t, os.Chmod(path, 0o644))
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
