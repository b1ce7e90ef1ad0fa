package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/internal/archivetest"
)

func writeArchive(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func unpackBytes(t *testing.T, data []byte) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Unpack(context.Background(), writeArchive(t, data), dir)
	return dir, err
}

func TestUnpackEveryFormat(t *testing.T) {
	for _, format := range archivetest.Formats {
		t.Run(format, func(t *testing.T) {
			data, err := archivetest.Make(format, archivetest.Standard)
			if err != nil {
				t.Fatal(err)
			}
			dir, err := unpackBytes(t, data)
			if err != nil {
				t.Fatal(err)
			}
			top, err := TopDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(top) != "pkg-1.0" {
				t.Fatalf("TopDir = %s, want the pkg-1.0 directory", top)
			}
			archivetest.CheckStandard(t, top)
			// Stripping in place gives the same tree.
			if err := StripTopDir(dir); err != nil {
				t.Fatal(err)
			}
			archivetest.CheckStandard(t, dir)
		})
	}
}

func TestUnpackLastModified(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	os.Mkdir(dir, 0o755)
	lm, err := Unpack(context.Background(), writeArchive(t, archivetest.Tar(archivetest.Standard)), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !lm.Equal(archivetest.MTime) {
		t.Errorf("lastModified = %v, want %v", lm, archivetest.MTime)
	}
}

func TestTopDirRule(t *testing.T) {
	// Several top-level entries: nothing is stripped.
	dir, err := unpackBytes(t, archivetest.Tar([]archivetest.Entry{
		{Name: "a", Kind: 'f', Data: "a", Mode: 0o644},
		{Name: "b/c", Kind: 'f', Data: "c", Mode: 0o644},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if top, _ := TopDir(dir); top != dir {
		t.Errorf("two entries: TopDir = %s, want the root", top)
	}
	// A single file is not a directory to strip.
	dir, err = unpackBytes(t, archivetest.Tar([]archivetest.Entry{{Name: "only", Kind: 'f', Data: "x", Mode: 0o644}}))
	if err != nil {
		t.Fatal(err)
	}
	if top, _ := TopDir(dir); top != dir {
		t.Errorf("single file: TopDir = %s, want the root", top)
	}
	// A single directory holding an entry of its own name strips fine.
	dir, err = unpackBytes(t, archivetest.Tar([]archivetest.Entry{{Name: "x/x", Kind: 'f', Data: "inner", Mode: 0o644}, {Name: "x/.nixl-top", Kind: 'f', Data: "t", Mode: 0o644}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := StripTopDir(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "x")); err != nil || string(b) != "inner" {
		t.Errorf("x after stripping: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".nixl-top")); err != nil || string(b) != "t" {
		t.Errorf(".nixl-top after stripping: %q, %v", b, err)
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	cases := map[string][]archivetest.Entry{
		"dotdot":        {{Name: "../x", Kind: 'f', Data: "evil", Mode: 0o644}},
		"inner dotdot":  {{Name: "a/../../x", Kind: 'f', Data: "evil", Mode: 0o644}},
		"through link":  {{Name: "l", Kind: 'l', Target: ".."}, {Name: "l/x", Kind: 'f', Data: "evil", Mode: 0o644}},
		"abs link":      {{Name: "l", Kind: 'l', Target: "/tmp"}, {Name: "l/x", Kind: 'f', Data: "evil", Mode: 0o644}},
		"hard link out": {{Name: "h", Kind: 'h', Target: "../../etc/passwd"}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			for _, format := range []string{"tar", "zip"} {
				if format == "zip" && name == "hard link out" {
					continue
				}
				data, _ := archivetest.Make(format, entries)
				parent := t.TempDir()
				dir := filepath.Join(parent, "out")
				os.Mkdir(dir, 0o755)
				_, err := Unpack(context.Background(), writeArchive(t, data), dir)
				var ae *ArchiveError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: got %v, want an ArchiveError", format, err)
				}
				if _, err := os.Stat(filepath.Join(parent, "x")); err == nil {
					t.Fatalf("%s: a file was written outside the destination", format)
				}
			}
		})
	}
}

func TestUnpackAbsoluteAndDotNamesStayInside(t *testing.T) {
	dir, err := unpackBytes(t, archivetest.Tar([]archivetest.Entry{
		{Name: "/abs/file", Kind: 'f', Data: "1", Mode: 0o644},
		{Name: "./rel/./file", Kind: 'f', Data: "2", Mode: 0o4755},
		{Name: "rel/hard", Kind: 'h', Target: "./rel/file"},
		{Name: "rel/file2", Kind: 'f', Data: "first", Mode: 0o644},
		{Name: "rel/file2", Kind: 'f', Data: "second", Mode: 0o600},
	}))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"abs/file": "1", "rel/file": "2", "rel/hard": "2", "rel/file2": "second"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", p, b, err, want)
		}
	}
	// Modes are normalised: no setuid, 0755 for executables, 0644 else.
	for p, want := range map[string]os.FileMode{"rel/file": 0o755, "rel/hard": 0o755, "rel/file2": 0o644, "abs": 0o755 | os.ModeDir} {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestUnpackUnknownFormat(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":       []byte(strings.Repeat("this is not an archive\n", 50)),
		"empty":      {},
		"gzip noise": archivetest.Compress("gzip", []byte("plain text, not a tar")),
	} {
		_, err := unpackBytes(t, data)
		var ae *ArchiveError
		if !errors.As(err, &ae) {
			t.Errorf("%s: got %v, want an ArchiveError", name, err)
		}
	}
}
