package fetch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ArchiveError is an archive that cannot be unpacked: malformed, of an
// unknown format, or with an entry that would land outside the
// destination.
type ArchiveError struct {
	Archive string // the file being unpacked
	Reason  string
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("cannot unpack archive '%s': %s", e.Archive, e.Reason)
}

// Compression names a compression format recognised by its magic bytes.
type Compression string

const (
	NoCompression Compression = ""
	Gzip          Compression = "gzip"
	Bzip2         Compression = "bzip2"
	XZ            Compression = "xz"
	Zstd          Compression = "zstd"
)

// DetectCompression looks at the first bytes of a stream.
func DetectCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(head, []byte("BZh")):
		return Bzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return XZ
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	}
	return NoCompression
}

// Decompress returns a reader of the decompressed stream for the given
// compression (NoCompression returns r itself). The closer releases the
// decompressor's resources.
func Decompress(r io.Reader, c Compression) (io.Reader, func(), error) {
	switch c {
	case Gzip:
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { z.Close() }, nil
	case Bzip2:
		return bzip2.NewReader(r), func() {}, nil
	case XZ:
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	case Zstd:
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	return r, func() {}, nil
}

// isZip tells a zip archive (or an empty one) by its first bytes.
func isZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// Unpack extracts the archive file at archive into dir, which must exist
// and be empty. The format is recognised by content, not by name: tar,
// optionally compressed with gzip, bzip2, xz or zstd, or zip.
//
// Entries are created with normalised modes (0755 for directories and
// for files with any execute bit, 0644 for other files), symbolic links
// are kept as they are, hard links become copies, and an entry whose
// name contains "..", or that would be written through a symbolic link,
// is refused: nothing lands outside dir. Leading "/" and "./" are
// ignored. lastModified is the newest modification time of the entries.
func Unpack(ctx context.Context, archive, dir string) (lastModified time.Time, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	f, err := os.Open(archive)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: f}, 64<<10)
	head, _ := br.Peek(512)
	if len(head) == 0 {
		return time.Time{}, &ArchiveError{Archive: archive, Reason: "the file is empty"}
	}
	x := &extractor{ctx: ctx, archive: archive, dir: dir}
	if isZip(head) {
		err = x.unzip(f)
	} else {
		c := DetectCompression(head)
		r, done, derr := Decompress(br, c)
		if derr != nil {
			return time.Time{}, &ArchiveError{Archive: archive, Reason: fmt.Sprintf("%s data: %v", c, derr)}
		}
		err = x.untar(r, c)
		done()
	}
	if err != nil {
		var ae *ArchiveError
		if !errors.As(err, &ae) && ctx.Err() == nil {
			err = &ArchiveError{Archive: archive, Reason: err.Error()}
		}
		return time.Time{}, err
	}
	return x.lastModified, nil
}

// TopDir returns the directory an unpacked archive in dir stands for,
// by Nix's rule: the single top-level entry when the archive holds
// exactly one and it is a directory, otherwise dir itself.
func TopDir(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) == 1 && entries[0].Type().IsDir() {
		return filepath.Join(dir, entries[0].Name()), nil
	}
	return dir, nil
}

// StripTopDir applies TopDir's rule in place: when dir holds a single
// directory, its contents replace it, with renames only.
func StripTopDir(dir string) error {
	top, err := TopDir(dir)
	if err != nil || top == dir {
		return err
	}
	children, err := os.ReadDir(top)
	if err != nil {
		return err
	}
	// Move the top directory aside under a name none of its children
	// has, so that a child with the top directory's name can move up.
	taken := map[string]bool{}
	for _, c := range children {
		taken[c.Name()] = true
	}
	aside := ".nixl-top"
	for i := 0; taken[aside]; i++ {
		aside = fmt.Sprintf(".nixl-top-%d", i)
	}
	asidePath := filepath.Join(dir, aside)
	if err := os.Rename(top, asidePath); err != nil {
		return err
	}
	for _, c := range children {
		if err := os.Rename(filepath.Join(asidePath, c.Name()), filepath.Join(dir, c.Name())); err != nil {
			return err
		}
	}
	return os.Remove(asidePath)
}

type extractor struct {
	ctx          context.Context
	archive      string
	dir          string
	lastModified time.Time
}

func (x *extractor) fail(format string, args ...any) error {
	return &ArchiveError{Archive: x.archive, Reason: fmt.Sprintf(format, args...)}
}

// target checks an entry name and returns its path below x.dir ("" for
// the root itself).
func (x *extractor) target(name string) (string, error) {
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", x.fail("entry '%s' refers to a path outside the destination", name)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return filepath.Join(parts...), nil
}

// prepare makes sure the parent directories of rel exist as real
// directories (never through a symbolic link) and removes whatever is at
// rel unless it is a directory and keepDir is set.
func (x *extractor) prepare(name, rel string, keepDir bool) (string, error) {
	parts := strings.Split(rel, string(filepath.Separator))
	cur := x.dir
	for _, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", x.fail("entry '%s' would be written through the symbolic link '%s'", name, strings.TrimPrefix(cur, x.dir+"/"))
		case !fi.IsDir():
			return "", x.fail("entry '%s' needs '%s' to be a directory, but the archive made it a file", name, strings.TrimPrefix(cur, x.dir+"/"))
		}
	}
	abs := filepath.Join(x.dir, rel)
	fi, err := os.Lstat(abs)
	if err == nil {
		if keepDir && fi.IsDir() {
			return abs, nil
		}
		if err := os.RemoveAll(abs); err != nil {
			return "", err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return abs, nil
}

func (x *extractor) seen(t time.Time) {
	if t.After(x.lastModified) {
		x.lastModified = t
	}
}

func fileMode(m fs.FileMode) fs.FileMode {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

func (x *extractor) writeFile(abs string, mode fs.FileMode, r io.Reader) error {
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(abs, mode) // the umask may have reduced it
	}
	return err
}

func (x *extractor) mkdir(abs string) error {
	if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
		return os.Chmod(abs, 0o755)
	}
	return os.Mkdir(abs, 0o755)
}

func (x *extractor) untar(r io.Reader, c Compression) error {
	tr := tar.NewReader(r)
	first := true
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			if first && c == NoCompression {
				return x.fail("unrecognised archive format")
			}
			return nil
		}
		if err != nil {
			if first {
				if c == NoCompression {
					return x.fail("unrecognised archive format")
				}
				return x.fail("the %s-compressed data is not a tar archive (%v)", c, err)
			}
			return x.fail("%v", err)
		}
		first = false
		rel, err := x.target(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeDir:
		case tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeGNUSparse:
			if rel == "" {
				return x.fail("entry '%s' has no name", h.Name)
			}
		default:
			return x.fail("entry '%s' has an unsupported type ('%c')", h.Name, h.Typeflag)
		}
		x.seen(h.ModTime)
		if rel == "" { // the root directory itself
			continue
		}
		abs, err := x.prepare(h.Name, rel, h.Typeflag == tar.TypeDir)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = x.mkdir(abs)
		case tar.TypeReg, tar.TypeGNUSparse:
			err = x.writeFile(abs, fileMode(h.FileInfo().Mode()), tr)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, abs)
		case tar.TypeLink:
			err = x.hardLink(h.Name, h.Linkname, abs)
		}
		if err != nil {
			return err
		}
	}
}

// hardLink makes abs a copy of the regular file the archive extracted
// earlier as linkname.
func (x *extractor) hardLink(name, linkname, abs string) error {
	rel, err := x.target(linkname)
	if err != nil {
		return err
	}
	if rel == "" {
		return x.fail("hard link '%s' points to the archive root", name)
	}
	// Resolve the target without following symbolic links anywhere.
	cur := x.dir
	parts := strings.Split(rel, string(filepath.Separator))
	for i, p := range parts {
		cur = filepath.Join(cur, p)
		fi, err := os.Lstat(cur)
		if err != nil {
			return x.fail("hard link '%s' points to '%s', which is not in the archive before it", name, linkname)
		}
		last := i == len(parts)-1
		if fi.Mode()&fs.ModeSymlink != 0 || !last && !fi.IsDir() || last && !fi.Mode().IsRegular() {
			return x.fail("hard link '%s' points to '%s', which is not a regular file", name, linkname)
		}
	}
	src, err := os.Open(cur)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	return x.writeFile(abs, fileMode(fi.Mode()), src)
}

func (x *extractor) unzip(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return x.fail("%v", err)
	}
	for _, zf := range zr.File {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		rel, err := x.target(zf.Name)
		if err != nil {
			return err
		}
		x.seen(zf.Modified)
		if rel == "" {
			continue
		}
		mode := zf.Mode()
		isDir := strings.HasSuffix(zf.Name, "/") || mode.IsDir()
		abs, err := x.prepare(zf.Name, rel, isDir)
		if err != nil {
			return err
		}
		switch {
		case isDir:
			err = x.mkdir(abs)
		case mode&fs.ModeSymlink != 0:
			var target []byte
			target, err = readZipFile(zf, 4096)
			if err == nil {
				err = os.Symlink(string(target), abs)
			}
		case mode.IsRegular():
			var rc io.ReadCloser
			rc, err = zf.Open()
			if err == nil {
				err = x.writeFile(abs, fileMode(mode), rc)
				if cerr := rc.Close(); err == nil {
					err = cerr
				}
			}
		default:
			return x.fail("entry '%s' has an unsupported type (%v)", zf.Name, mode.Type())
		}
		if err != nil {
			if _, ok := err.(*ArchiveError); ok {
				return err
			}
			return x.fail("entry '%s': %v", zf.Name, err)
		}
	}
	return nil
}

func readZipFile(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("symbolic link target longer than %d bytes", limit)
	}
	return b, nil
}
