package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxNARTokenLen bounds every string except file contents, so that a corrupt
// length field cannot make the reader allocate huge buffers. Names and
// symlink targets are far shorter on every real file system.
const maxNARTokenLen = 64 << 10

// narSink receives the nodes of a NAR as they are parsed. Paths are relative
// to the archive root, which is "". A regular file's contents must be read to
// the end by the sink or they are skipped.
type narSink interface {
	directory(path string) error
	regularFile(path string, executable bool, size int64, contents io.Reader) error
	symlink(path, target string) error
}

// NARFormatError reports malformed NAR input and where it was found.
type NARFormatError struct {
	Offset int64 // byte offset in the archive where the problem starts
	Msg    string
}

func (e *NARFormatError) Error() string {
	return fmt.Sprintf("malformed NAR at byte %d: %s", e.Offset, e.Msg)
}

type narReader struct {
	r       *bufio.Reader
	offset  int64
	scratch [8]byte
}

// newNARReader reuses r if it is already buffered, so a caller that reads
// something after the archive loses nothing to read-ahead.
func newNARReader(r io.Reader) *narReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &narReader{r: br}
}

func (nr *narReader) fail(offset int64, format string, args ...any) error {
	return &NARFormatError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

// readFull wraps io.ReadFull, turning a premature end into a format error.
func (nr *narReader) readFull(p []byte) error {
	n, err := io.ReadFull(nr.r, p)
	nr.offset += int64(n)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nr.fail(nr.offset, "unexpected end of archive")
	}
	return err
}

func (nr *narReader) length() (uint64, error) {
	if err := nr.readFull(nr.scratch[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(nr.scratch[:]), nil
}

func (nr *narReader) padding(n uint64) error {
	start := nr.offset
	pad := nr.scratch[:narPadding(n)]
	if err := nr.readFull(pad); err != nil {
		return err
	}
	for _, b := range pad {
		if b != 0 {
			return nr.fail(start, "non-zero padding")
		}
	}
	return nil
}

func (nr *narReader) token() (string, error) {
	start := nr.offset
	n, err := nr.length()
	if err != nil {
		return "", err
	}
	if n > maxNARTokenLen {
		return "", nr.fail(start, "string of %d bytes exceeds the limit of %d", n, maxNARTokenLen)
	}
	buf := make([]byte, n)
	if err := nr.readFull(buf); err != nil {
		return "", err
	}
	if err := nr.padding(n); err != nil {
		return "", err
	}
	return string(buf), nil
}

func (nr *narReader) expect(want string) error {
	start := nr.offset
	got, err := nr.token()
	if err != nil {
		return err
	}
	if got != want {
		return nr.fail(start, "expected %q, found %q", want, truncateForError(got))
	}
	return nil
}

func truncateForError(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// parseNAR reads exactly one canonical NAR from r and feeds it to sink.
func parseNAR(r io.Reader, sink narSink) error {
	nr := newNARReader(r)
	start := nr.offset
	magic, err := nr.token()
	if err != nil {
		return err
	}
	if magic != narMagic {
		return nr.fail(start, "not a NAR: expected %q, found %q", narMagic, truncateForError(magic))
	}
	return nr.node("", sink)
}

func (nr *narReader) node(path string, sink narSink) error {
	if err := nr.expect("("); err != nil {
		return err
	}
	if err := nr.expect("type"); err != nil {
		return err
	}
	start := nr.offset
	kind, err := nr.token()
	if err != nil {
		return err
	}
	switch kind {
	case "regular":
		err = nr.regular(path, sink)
	case "symlink":
		err = nr.symlink(path, sink)
	case "directory":
		err = nr.directory(path, sink)
	default:
		return nr.fail(start, "unknown file type %q", truncateForError(kind))
	}
	if err != nil {
		return err
	}
	// A directory consumes its own closing parenthesis.
	if kind == "directory" {
		return nil
	}
	return nr.expect(")")
}

func (nr *narReader) regular(path string, sink narSink) error {
	start := nr.offset
	field, err := nr.token()
	if err != nil {
		return err
	}
	executable := false
	if field == "executable" {
		executable = true
		if err := nr.expect(""); err != nil {
			return err
		}
		start = nr.offset
		if field, err = nr.token(); err != nil {
			return err
		}
	}
	if field != "contents" {
		return nr.fail(start, "expected \"contents\", found %q", truncateForError(field))
	}
	sizeAt := nr.offset
	size, err := nr.length()
	if err != nil {
		return err
	}
	if size > 1<<62 {
		return nr.fail(sizeAt, "file size %d is implausible", size)
	}
	contents := &contentsReader{nr: nr, remaining: int64(size), path: path}
	if err := sink.regularFile(path, executable, int64(size), contents); err != nil {
		return err
	}
	// Skip whatever the sink left unread.
	if _, err := io.Copy(io.Discard, contents); err != nil {
		return err
	}
	return nr.padding(size)
}

// contentsReader yields exactly the bytes of one file, advancing the archive
// offset, and reports an archive that ends early as malformed.
type contentsReader struct {
	nr        *narReader
	remaining int64
	path      string
}

func (c *contentsReader) Read(p []byte) (int, error) {
	if c.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.nr.r.Read(p)
	c.remaining -= int64(n)
	c.nr.offset += int64(n)
	if errors.Is(err, io.EOF) && c.remaining > 0 {
		return n, c.nr.fail(c.nr.offset, "unexpected end of archive in contents of %q", c.path)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (nr *narReader) symlink(path string, sink narSink) error {
	if err := nr.expect("target"); err != nil {
		return err
	}
	start := nr.offset
	target, err := nr.token()
	if err != nil {
		return err
	}
	if target == "" || strings.IndexByte(target, 0) >= 0 {
		return nr.fail(start, "invalid symlink target %q", truncateForError(target))
	}
	return sink.symlink(path, target)
}

func (nr *narReader) directory(path string, sink narSink) error {
	if err := sink.directory(path); err != nil {
		return err
	}
	previous := ""
	for first := true; ; first = false {
		start := nr.offset
		field, err := nr.token()
		if err != nil {
			return err
		}
		if field == ")" {
			return nil
		}
		if field != "entry" {
			return nr.fail(start, "expected \"entry\" or \")\", found %q", truncateForError(field))
		}
		if err := nr.expect("("); err != nil {
			return err
		}
		if err := nr.expect("name"); err != nil {
			return err
		}
		nameAt := nr.offset
		name, err := nr.token()
		if err != nil {
			return err
		}
		if err := checkNAREntryName(name); err != nil {
			return nr.fail(nameAt, "%v", err)
		}
		if !first && name <= previous {
			return nr.fail(nameAt, "directory entry %q is not sorted after %q or is a duplicate", name, previous)
		}
		previous = name
		if err := nr.expect("node"); err != nil {
			return err
		}
		child := name
		if path != "" {
			child = path + "/" + name
		}
		if err := nr.node(child, sink); err != nil {
			return err
		}
		if err := nr.expect(")"); err != nil {
			return err
		}
	}
}

func checkNAREntryName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid file name %q", truncateForError(name))
	}
	return nil
}
