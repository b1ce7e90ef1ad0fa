package store

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRestorePath feeds arbitrary bytes to the NAR reader. Malformed input
// must produce an error, never a panic; input that restores successfully must
// be canonical, i.e. dumping the restored tree reproduces the bytes read.
func FuzzRestorePath(f *testing.F) {
	addNARSeeds(f)

	f.Fuzz(func(t *testing.T, nar []byte) {
		dest := filepath.Join(t.TempDir(), "out")
		br := bufio.NewReader(bytes.NewReader(nar))
		err := RestorePath(br, dest)
		if err != nil {
			var formatErr *NARFormatError
			var pathErr *os.PathError
			var linkErr *os.LinkError
			if !errors.As(err, &formatErr) && !errors.As(err, &pathErr) && !errors.As(err, &linkErr) {
				t.Fatalf("unexpected kind of error %T: %v", err, err)
			}
			return
		}
		rest, _ := io.ReadAll(br)
		consumed := nar[:len(nar)-len(rest)]
		if again := dumpToBytes(t, dest); !bytes.Equal(again, consumed) {
			t.Fatalf("accepted a non-canonical NAR: dump after restore differs at byte %d", firstDifference(again, consumed))
		}
	})
}

// addNARSeeds seeds a NAR fuzz target with the test trees' NARs and a
// few small archives of each entry type.
func addNARSeeds(f *testing.F) {
	for _, seed := range []string{"tree.nar", "tree-empty.nar"} {
		nar, err := os.ReadFile(filepath.Join("testdata", seed))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(nar)
	}
	var single bytes.Buffer
	DumpBytes(&single, []byte("hello"))
	f.Add(single.Bytes())
	f.Add(narTokens("nix-archive-1", "(", "type", "symlink", "target", "x", ")"))
	f.Add(concat(narTokens("nix-archive-1", "(", "type", "directory"),
		entry("a", "(", "type", "regular", "executable", "", "contents", "12345678", ")"),
		entry("b", "(", "type", "directory", ")"), narTokens(")")))
}
