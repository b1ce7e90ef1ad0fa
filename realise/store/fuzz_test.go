package store

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
)

// memNode is a file system tree in memory, built by a narSink.
type memNode struct {
	kind       string // "regular", "symlink", "directory"
	executable bool
	contents   []byte
	target     string
	entries    map[string]*memNode
}

// memTree is a narSink that keeps the tree in memory.
type memTree struct{ root *memNode }

func (m *memTree) add(path string, n *memNode) error {
	if path == "" {
		if m.root != nil {
			return errors.New("second root")
		}
		m.root = n
		return nil
	}
	dir, parent := m.root, ""
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	if parent != "" {
		for _, p := range strings.Split(parent, "/") {
			if dir == nil || dir.kind != "directory" {
				return errors.New("no parent directory for " + path)
			}
			dir = dir.entries[p]
		}
	}
	if dir == nil || dir.kind != "directory" {
		return errors.New("no parent directory for " + path)
	}
	if dir.entries[name] != nil {
		return errors.New("duplicate " + path)
	}
	dir.entries[name] = n
	return nil
}

func (m *memTree) directory(path string) error {
	return m.add(path, &memNode{kind: "directory", entries: map[string]*memNode{}})
}

func (m *memTree) regularFile(path string, executable bool, size int64, contents io.Reader) error {
	data, err := io.ReadAll(contents)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return errors.New("contents of the wrong size")
	}
	return m.add(path, &memNode{kind: "regular", executable: executable, contents: data})
}

func (m *memTree) symlink(path, target string) error {
	return m.add(path, &memNode{kind: "symlink", target: target})
}

// write serialises the tree as a NAR node, entries sorted by name.
func (n *memNode) write(nw *narWriter) error {
	if err := nw.tokens("(", "type", n.kind); err != nil {
		return err
	}
	switch n.kind {
	case "regular":
		if n.executable {
			if err := nw.tokens("executable", ""); err != nil {
				return err
			}
		}
		if err := nw.tokens("contents", string(n.contents)); err != nil {
			return err
		}
	case "symlink":
		if err := nw.tokens("target", n.target); err != nil {
			return err
		}
	case "directory":
		names := make([]string, 0, len(n.entries))
		for name := range n.entries {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := nw.tokens("entry", "(", "name", name, "node"); err != nil {
				return err
			}
			if err := n.entries[name].write(nw); err != nil {
				return err
			}
			if err := nw.token(")"); err != nil {
				return err
			}
		}
	}
	return nw.token(")")
}

// FuzzParseNAR parses arbitrary bytes as a NAR into a tree in memory
// (no file system, so much faster than FuzzRestorePath, and independent
// of the file system's rules): malformed input must give a
// *NARFormatError, never a panic, and an accepted NAR must be canonical:
// the tree written back as a NAR is the bytes the parser consumed.
func FuzzParseNAR(f *testing.F) {
	addNARSeeds(f)

	f.Fuzz(func(t *testing.T, nar []byte) {
		tree := &memTree{}
		br := bufio.NewReader(bytes.NewReader(nar))
		if err := parseNAR(br, tree); err != nil {
			var formatErr *NARFormatError
			if !errors.As(err, &formatErr) {
				t.Fatalf("unexpected kind of error %T: %v", err, err)
			}
			return
		}
		rest, _ := io.ReadAll(br)
		consumed := nar[:len(nar)-len(rest)]
		var out bytes.Buffer
		nw := newNARWriter(&out)
		if err := nw.token(narMagic); err != nil {
			t.Fatal(err)
		}
		if err := tree.root.write(nw); err != nil {
			t.Fatal(err)
		}
		if err := nw.flush(); err != nil {
			t.Fatal(err)
		}
		if again := out.Bytes(); !bytes.Equal(again, consumed) {
			t.Fatalf("accepted a non-canonical NAR: writing it back differs at byte %d", firstDifference(again, consumed))
		}
	})
}
