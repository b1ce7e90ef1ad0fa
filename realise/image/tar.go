package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Every tar nixl writes is a function of the files' contents, names,
// executable bits and symlink targets only: entries in byte order of
// their names (parents first), owner root:root with no user or group
// names, modification time the image's creation time, modes normalised
// as in the store (directories and executables 0555, other files 0444,
// symbolic links 0777) and no extended attributes, access or change
// times. Hard links are written as separate files, as NAR has them.

// tarWriter writes deterministic tar entries.
type tarWriter struct {
	tw    *tar.Writer
	mtime time.Time
	buf   []byte
}

func newTarWriter(w io.Writer, mtime time.Time, buf []byte) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), mtime: mtime, buf: buf}
}

func (t *tarWriter) header(name string, typ byte, mode int64, size int64, link string, uid, gid int) error {
	h := &tar.Header{
		Typeflag: typ,
		Name:     name,
		Linkname: link,
		Size:     size,
		Mode:     mode,
		Uid:      uid,
		Gid:      gid,
		ModTime:  t.mtime,
	}
	return t.tw.WriteHeader(h)
}

// dir writes a directory entry; name is relative ("nix/store").
func (t *tarWriter) dir(name string, mode int64, uid, gid int) error {
	return t.header(name+"/", tar.TypeDir, mode, 0, "", uid, gid)
}

func (t *tarWriter) symlink(name, target string, uid, gid int) error {
	return t.header(name, tar.TypeSymlink, 0o777, 0, target, uid, gid)
}

func (t *tarWriter) bytesFile(name string, mode int64, data []byte, uid, gid int) error {
	if err := t.header(name, tar.TypeReg, mode, int64(len(data)), "", uid, gid); err != nil {
		return err
	}
	_, err := t.tw.Write(data)
	return err
}

// copyFile writes the regular file src as name.
func (t *tarWriter) copyFile(name, src string, mode int64, size int64, uid, gid int) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := t.header(name, tar.TypeReg, mode, size, "", uid, gid); err != nil {
		return err
	}
	n, err := io.CopyBuffer(onlyWriter{t.tw}, io.LimitReader(f, size), t.buf)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("'%s' changed while being read", src)
	}
	return nil
}

// onlyWriter hides ReadFrom, so io.CopyBuffer uses the buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// tree writes the file system object at src (not following a final
// symbolic link) as name, with store modes, owned by root.
func (t *tarWriter) tree(name, src string) error { return t.treeOwned(name, src, 0, 0, false) }

// treeOwned is tree with an owner, and with the owner's write
// permission when writable.
func (t *tarWriter) treeOwned(name, src string, uid, gid int, writable bool) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	var w int64
	if writable {
		w = 0o200
	}
	switch {
	case fi.Mode().IsRegular():
		mode := int64(0o444)
		if fi.Mode().Perm()&0o111 != 0 {
			mode = 0o555
		}
		return t.copyFile(name, src, mode|w, fi.Size(), uid, gid)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return t.symlink(name, target, uid, gid)
	case fi.IsDir():
		if err := t.dir(name, 0o555|w, uid, gid); err != nil {
			return err
		}
		names, err := readDirNames(src)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := t.treeOwned(name+"/"+n, filepath.Join(src, n), uid, gid, writable); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("'%s' has an unsupported file type (%s)", src, fi.Mode().Type())
	}
}

// readDirNames lists a directory's entries in byte order.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// ancestors returns the relative names of the directories above and
// including dir ("/nix/store" → "nix", "nix/store").
func ancestors(dir string) []string {
	rel := strings.Trim(path.Clean(dir), "/")
	if rel == "" {
		return nil
	}
	parts := strings.Split(rel, "/")
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(parts[:i+1], "/")
	}
	return out
}

// writeStoreLayer writes the tar of a store layer: the store
// directory's ancestors (0755) and the given store paths, sorted.
func writeStoreLayer(w io.Writer, storeDir string, paths []string, mtime time.Time, buf []byte) error {
	t := newTarWriter(w, mtime, buf)
	for _, a := range ancestors(storeDir) {
		if err := t.dir(a, 0o755, 0, 0); err != nil {
			return err
		}
	}
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	for _, p := range sorted {
		if err := t.tree(strings.TrimPrefix(path.Clean(p), "/"), p); err != nil {
			return err
		}
	}
	return t.tw.Close()
}
