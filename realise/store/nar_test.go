package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func dumpToBytes(t testing.TB, path string) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := DumpPath(&buf, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("DumpPath reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestNARRoundTrip(t *testing.T) {
	parent := t.TempDir()
	tree := buildTestTree(t, parent)
	nar := dumpToBytes(t, tree)
	restored := filepath.Join(parent, "restored")
	if err := RestorePath(bytes.NewReader(nar), restored); err != nil {
		t.Fatal(err)
	}
	if again := dumpToBytes(t, restored); !bytes.Equal(again, nar) {
		t.Fatalf("dump after restore differs at byte %d", firstDifference(again, nar))
	}
	checks := []struct {
		path string
		exec bool
	}{
		{"script.sh", true}, {"owner-exec-only", true}, {"empty-exec", true}, {"nested/a/tool", true},
		{"group-exec-only", false}, {"file.txt", false},
	}
	for _, c := range checks {
		info, err := os.Lstat(filepath.Join(restored, c.path))
		if err != nil {
			t.Fatal(err)
		}
		if isExec := info.Mode()&0o100 != 0; isExec != c.exec {
			t.Errorf("%s: restored mode %v, executable should be %v", c.path, info.Mode(), c.exec)
		}
	}
	if target, err := os.Readlink(filepath.Join(restored, "dangling")); err != nil || target != "does/not/exist" {
		t.Errorf("dangling symlink restored as %q, %v", target, err)
	}
	if data, err := os.ReadFile(filepath.Join(restored, "names/日本語.txt")); err != nil || string(data) != "kanji" {
		t.Errorf("unicode file restored as %q, %v", data, err)
	}
}

func TestRestoreRecordedNixNAR(t *testing.T) {
	for _, name := range []string{"tree.nar", "tree-empty.nar"} {
		nar, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(t.TempDir(), "out")
		if err := RestorePath(bytes.NewReader(nar), dest); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if again := dumpToBytes(t, dest); !bytes.Equal(again, nar) {
			t.Errorf("%s: dump after restore differs at byte %d", name, firstDifference(again, nar))
		}
	}
}

func TestRestoreSingleFileAndSymlinkRoots(t *testing.T) {
	parent := t.TempDir()
	tree := buildTestTree(t, parent)
	for _, rel := range []string{"script.sh", "zero-bytes", "link-to-file", "empty-dir"} {
		nar := dumpToBytes(t, filepath.Join(tree, rel))
		dest := filepath.Join(parent, "restored-"+rel)
		if err := RestorePath(bytes.NewReader(nar), dest); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if again := dumpToBytes(t, dest); !bytes.Equal(again, nar) {
			t.Errorf("%s: dump after restore differs", rel)
		}
	}
}

func TestRestoreRefusesExistingPath(t *testing.T) {
	nar := dumpToBytes(t, buildTestTree(t, t.TempDir()))
	dest := t.TempDir() // exists already
	if err := RestorePath(bytes.NewReader(nar), dest); !errors.Is(err, os.ErrExist) {
		t.Fatalf("restoring over an existing directory: %v", err)
	}
}

func TestRestoreStopsAtEndOfArchive(t *testing.T) {
	var nar bytes.Buffer
	if _, err := DumpBytes(&nar, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	nar.WriteString("trailer")
	br := bufio.NewReader(&nar)
	if err := RestorePath(br, filepath.Join(t.TempDir(), "f")); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "trailer" {
		t.Fatalf("after the archive the reader holds %q, want %q", rest, "trailer")
	}
}

func TestDumpBytesMatchesDumpPath(t *testing.T) {
	dir := t.TempDir()
	for _, contents := range []string{"", "x", "12345678", "bar", strings.Repeat("z", 100000)} {
		p := filepath.Join(dir, "f")
		mustDo(t, os.WriteFile(p, []byte(contents), 0o644))
		mustDo(t, os.Chmod(p, 0o644))
		want := dumpToBytes(t, p)
		var got bytes.Buffer
		n, err := DumpBytes(&got, []byte(contents))
		if err != nil || n != int64(got.Len()) || !bytes.Equal(got.Bytes(), want) {
			t.Errorf("DumpBytes(%d bytes) differs from DumpPath of the same file (n=%d, err=%v)", len(contents), n, err)
		}
		if HashNARBytes(nixhash.SHA256, []byte(contents)) != nixhash.Sum(nixhash.SHA256, want) {
			t.Errorf("HashNARBytes(%d bytes) is not the hash of the NAR", len(contents))
		}
	}
}

func TestDumpPathFilter(t *testing.T) {
	tree := buildTestTree(t, t.TempDir())
	var seen []string
	keepAllButNested := func(path string) bool {
		seen = append(seen, path)
		return filepath.Base(path) != "nested"
	}
	var filtered bytes.Buffer
	if _, err := DumpPath(&filtered, tree, keepAllButNested); err != nil {
		t.Fatal(err)
	}
	for _, p := range seen {
		if !strings.HasPrefix(p, tree+"/") {
			t.Errorf("filter saw %q, not a full path below the root", p)
		}
	}
	mustDo(t, os.RemoveAll(filepath.Join(tree, "nested")))
	if want := dumpToBytes(t, tree); !bytes.Equal(filtered.Bytes(), want) {
		t.Error("filtered dump differs from a dump of the tree without the filtered entry")
	}
}

func TestDumpRejectsUnsupportedFileTypes(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := DumpPath(io.Discard, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "unsupported type") {
		t.Fatalf("dumping a fifo: %v", err)
	}
	if _, err := DumpPath(io.Discard, filepath.Join(dir, "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dumping a missing path: %v", err)
	}
}

func TestDumpStreamsInConstantMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	const size = 64 << 20
	writeBigFile(t, path, size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, _, err := HashPath(nixhash.SHA256, path, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
		t.Errorf("hashing a %d MiB file allocated %d bytes; contents must be streamed", size>>20, allocated)
	}
}

// narTokens encodes strings as NAR tokens, for building malformed archives.
func narTokens(tokens ...string) []byte {
	var buf bytes.Buffer
	for _, tok := range tokens {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(tok)))
		buf.Write(n[:])
		buf.WriteString(tok)
		buf.Write(make([]byte, narPadding(uint64(len(tok)))))
	}
	return buf.Bytes()
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func entry(name string, node ...string) []byte {
	return concat(narTokens("entry", "(", "name", name, "node"), narTokens(node...), narTokens(")"))
}

func TestRestoreRejectsMalformedNAR(t *testing.T) {
	file := []string{"(", "type", "regular", "contents", "x", ")"}
	dirStart := narTokens("nix-archive-1", "(", "type", "directory")
	end := narTokens(")")
	badPadding := narTokens("nix-archive-1", "(", "type", "regular", "contents", "x", ")")
	badPadding[len(narTokens("nix-archive-1", "(", "type", "regular", "contents"))+8+1] = 1
	hugeLength := narTokens("nix-archive-1", "(")
	hugeLength = binary.LittleEndian.AppendUint64(hugeLength, 1<<40)

	tests := map[string]struct {
		nar     []byte
		wantErr string
	}{
		"empty input":         {nil, "unexpected end"},
		"wrong magic":         {narTokens("nix-archive-2", "("), "not a NAR"},
		"missing open tag":    {narTokens("nix-archive-1", "type"), `expected "("`},
		"unknown type":        {narTokens("nix-archive-1", "(", "type", "fifo", ")"), "unknown file type"},
		"executable marker":   {narTokens("nix-archive-1", "(", "type", "regular", "executable", "yes", "contents", "", ")"), `expected ""`},
		"contents missing":    {narTokens("nix-archive-1", "(", "type", "regular", ")"), `expected "contents"`},
		"field after symlink": {narTokens("nix-archive-1", "(", "type", "symlink", "target", "x", "extra", ")"), `expected ")"`},
		"empty symlink":       {narTokens("nix-archive-1", "(", "type", "symlink", "target", "", ")"), "invalid symlink target"},
		"truncated contents":  {narTokens("nix-archive-1", "(", "type", "regular", "contents", "abcdef")[:99], "unexpected end"},
		"non-zero padding":    {badPadding, "non-zero padding"},
		"huge token length":   {hugeLength, "exceeds the limit"},
		"unsorted entries":    {concat(dirStart, entry("b", file...), entry("a", file...), end), "not sorted"},
		"duplicate entries":   {concat(dirStart, entry("a", file...), entry("a", file...), end), "not sorted"},
		"empty name":          {concat(dirStart, entry("", file...), end), "invalid file name"},
		"dot name":            {concat(dirStart, entry(".", file...), end), "invalid file name"},
		"dot-dot name":        {concat(dirStart, entry("..", file...), end), "invalid file name"},
		"slash in name":       {concat(dirStart, entry("a/b", file...), end), "invalid file name"},
		"NUL in name":         {concat(dirStart, entry("a\x00", file...), end), "invalid file name"},
		"junk in directory":   {concat(dirStart, narTokens("entri"), end), `expected "entry" or ")"`},
		"unterminated dir":    {concat(dirStart, entry("a", file...)), "unexpected end"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := RestorePath(bytes.NewReader(tt.nar), filepath.Join(t.TempDir(), "out"))
			var formatErr *NARFormatError
			if !errors.As(err, &formatErr) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want a NARFormatError containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRestoreRejectsEveryTruncation(t *testing.T) {
	nar, err := os.ReadFile("testdata/tree.nar")
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	for n := 0; n < len(nar); n += 8 {
		err := RestorePath(bytes.NewReader(nar[:n]), filepath.Join(parent, strconv.Itoa(n)))
		var formatErr *NARFormatError
		if !errors.As(err, &formatErr) {
			t.Fatalf("archive cut at %d bytes: error %v, want a NARFormatError", n, err)
		}
	}
}
