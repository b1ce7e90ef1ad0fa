package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// RestorePath reads one NAR from r and recreates its tree at path, which must
// not exist yet. Files are created with mode 0666 and directories with 0777,
// both reduced by the umask; executables additionally get every execute bit.
// Malformed input yields a *NARFormatError; what was restored before the
// error is left in place for the caller to remove.
//
// If r is a *bufio.Reader, nothing after the archive is consumed from it.
func RestorePath(r io.Reader, path string) error {
	return parseNAR(r, &restorer{root: path, buf: make([]byte, copyBufferSize)})
}

type restorer struct {
	root string
	buf  []byte
}

// target maps an archive path to the file system. The parser guarantees that
// archive paths are made of plain names, and every directory on the way was
// created by this restore, so the result never escapes root.
func (r *restorer) target(path string) string {
	if path == "" {
		return r.root
	}
	return filepath.Join(r.root, filepath.FromSlash(path))
}

func (r *restorer) directory(path string) error {
	return os.Mkdir(r.target(path), 0o777)
}

func (r *restorer) symlink(path, target string) error {
	return os.Symlink(target, r.target(path))
}

func (r *restorer) regularFile(path string, executable bool, size int64, contents io.Reader) (err error) {
	f, err := os.OpenFile(r.target(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if executable {
		info, err := f.Stat()
		if err != nil {
			return err
		}
		if err := f.Chmod(info.Mode().Perm() | 0o111); err != nil {
			return err
		}
	}
	written, err := copyWithBuffer(f, contents, r.buf)
	if err != nil {
		return err
	}
	if written != size {
		return fmt.Errorf("restoring '%s': unexpected end of archive after %d of %d bytes", path, written, size)
	}
	return nil
}

// copyWithBuffer copies through buf; unlike io.CopyBuffer it never delegates
// to ReadFrom/WriteTo, which would ignore the large buffer.
func copyWithBuffer(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
