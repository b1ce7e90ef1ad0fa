package store

import (
	"bufio"
	"encoding/binary"
	"io"
)

// A NAR ("Nix ARchive") is a canonical serialisation of a file system tree:
// only file types, contents, the executable bit and symlink targets count;
// directory entries are sorted by name bytes. Every token is a string
// written as a little-endian uint64 length, the bytes, and zero padding to a
// multiple of 8 bytes:
//
//	nar     = "nix-archive-1" node
//	node    = "(" "type" ( regular | symlink | dir ) ")"
//	regular = "regular" [ "executable" "" ] "contents" <bytes>
//	symlink = "symlink" "target" <target>
//	dir     = "directory" { "entry" "(" "name" <name> "node" node ")" }

const narMagic = "nix-archive-1"

// copyBufferSize is large so that streaming file contents costs few system
// calls and hash invocations per byte.
const copyBufferSize = 1 << 20

// narWriter emits NAR tokens through a buffer, counting what it wrote.
type narWriter struct {
	out     *bufio.Writer
	size    int64
	scratch [8]byte
}

func newNARWriter(w io.Writer) *narWriter {
	return &narWriter{out: bufio.NewWriterSize(w, 64<<10)}
}

func (nw *narWriter) write(p []byte) error {
	n, err := nw.out.Write(p)
	nw.size += int64(n)
	return err
}

func (nw *narWriter) length(n uint64) error {
	binary.LittleEndian.PutUint64(nw.scratch[:], n)
	return nw.write(nw.scratch[:])
}

var zeroPadding [8]byte

func narPadding(n uint64) int { return int((8 - n%8) % 8) }

func (nw *narWriter) pad(n uint64) error {
	return nw.write(zeroPadding[:narPadding(n)])
}

func (nw *narWriter) token(s string) error {
	if err := nw.length(uint64(len(s))); err != nil {
		return err
	}
	n, err := nw.out.WriteString(s)
	nw.size += int64(n)
	if err != nil {
		return err
	}
	return nw.pad(uint64(len(s)))
}

func (nw *narWriter) tokens(ss ...string) error {
	for _, s := range ss {
		if err := nw.token(s); err != nil {
			return err
		}
	}
	return nil
}

func (nw *narWriter) flush() error { return nw.out.Flush() }
