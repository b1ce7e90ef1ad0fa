package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// PathFilter decides whether an entry below the dumped root is included. It
// receives the entry's full path (the root joined with the relative path), as
// filters of builtins.path and builtins.filterSource do. The root itself is
// always included.
type PathFilter func(path string) bool

// DumpPath writes the NAR serialisation of the tree at root (not following a
// symlink at root) to w and returns the number of bytes written. filter may be
// nil. File contents are streamed, so memory use is independent of file size.
func DumpPath(w io.Writer, root string, filter PathFilter) (int64, error) {
	nw := newNARWriter(w)
	d := dumper{nw: nw, filter: filter, buf: make([]byte, copyBufferSize)}
	err := nw.token(narMagic)
	if err == nil {
		err = d.node(root)
	}
	if err == nil {
		err = nw.flush()
	}
	return nw.size, err
}

// DumpBytes writes the NAR of a single non-executable regular file with the
// given contents, as Nix's dumpString does for flat and text hashing.
func DumpBytes(w io.Writer, contents []byte) (int64, error) {
	nw := newNARWriter(w)
	err := nw.tokens(narMagic, "(", "type", "regular", "contents")
	if err == nil {
		err = nw.length(uint64(len(contents)))
	}
	if err == nil {
		err = nw.write(contents)
	}
	if err == nil {
		err = nw.pad(uint64(len(contents)))
	}
	if err == nil {
		err = nw.token(")")
	}
	if err == nil {
		err = nw.flush()
	}
	return nw.size, err
}

type dumper struct {
	nw     *narWriter
	filter PathFilter
	buf    []byte
}

func (d *dumper) node(path string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if err := d.nw.token("("); err != nil {
		return err
	}
	switch mode := info.Mode(); {
	case mode.IsRegular():
		err = d.regular(path, info)
	case mode.IsDir():
		err = d.directory(path)
	case mode&fs.ModeSymlink != 0:
		err = d.symlink(path)
	default:
		err = fmt.Errorf("file '%s' has an unsupported type (%v)", path, mode.Type())
	}
	if err != nil {
		return err
	}
	return d.nw.token(")")
}

func (d *dumper) regular(path string, info fs.FileInfo) error {
	if err := d.nw.tokens("type", "regular"); err != nil {
		return err
	}
	// Nix looks only at the owner's execute bit.
	if info.Mode()&0o100 != 0 {
		if err := d.nw.tokens("executable", ""); err != nil {
			return err
		}
	}
	if err := d.nw.token("contents"); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size := info.Size()
	if err := d.nw.length(uint64(size)); err != nil {
		return err
	}
	if err := d.copyExactly(f, size, path); err != nil {
		return err
	}
	return d.nw.pad(uint64(size))
}

// copyExactly streams size bytes of f; the length is already written, so a
// file that shrank while being dumped must fail rather than corrupt the NAR.
func (d *dumper) copyExactly(f *os.File, size int64, path string) error {
	for remaining := size; remaining > 0; {
		chunk := d.buf[:min(int64(len(d.buf)), remaining)]
		n, err := f.Read(chunk)
		if n > 0 {
			if werr := d.nw.write(chunk[:n]); werr != nil {
				return werr
			}
			remaining -= int64(n)
		}
		if errors.Is(err, io.EOF) && remaining > 0 {
			return fmt.Errorf("file '%s' shrank while it was being dumped", path)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	return nil
}

func (d *dumper) directory(path string) error {
	if err := d.nw.tokens("type", "directory"); err != nil {
		return err
	}
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return err
	}
	slices.Sort(names) // Go strings compare by bytes, as NAR requires.
	for _, name := range names {
		child := filepath.Join(path, name)
		if d.filter != nil && !d.filter(child) {
			continue
		}
		if err := d.nw.tokens("entry", "(", "name", name, "node"); err != nil {
			return err
		}
		if err := d.node(child); err != nil {
			return err
		}
		if err := d.nw.token(")"); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) symlink(path string) error {
	target, err := os.Readlink(path)
	if err != nil {
		return err
	}
	return d.nw.tokens("type", "symlink", "target", target)
}
