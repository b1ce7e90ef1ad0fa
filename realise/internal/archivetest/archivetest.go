// Package archivetest makes archives for the tests of the fetchers and
// the builtin builders: tar and zip files from a list of entries, in
// every compression nixl unpacks.
package archivetest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Entry is one archive member. Kind is 'f' (file), 'd' (directory),
// 'l' (symbolic link to Target) or 'h' (hard link to Target).
type Entry struct {
	Name   string
	Kind   byte
	Data   string
	Mode   int64
	Target string
}

// MTime is the modification time of every entry.
var MTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Standard is the tree of testdata/pkg.tar.bz2: a single top-level
// directory with a file, an executable and a symbolic link.
var Standard = []Entry{
	{Name: "pkg-1.0/", Kind: 'd', Mode: 0o755},
	{Name: "pkg-1.0/link", Kind: 'l', Target: "bin/hi"},
	{Name: "pkg-1.0/README", Kind: 'f', Data: "hello, archive\n", Mode: 0o644},
	{Name: "pkg-1.0/bin/", Kind: 'd', Mode: 0o755},
	{Name: "pkg-1.0/bin/hi", Kind: 'f', Data: "#!/bin/sh\necho hi\n", Mode: 0o755},
}

//go:embed testdata/pkg.tar.bz2
var standardBzip2 []byte

// Formats are the archive formats Make knows.
var Formats = []string{"tar", "tar.gz", "tar.xz", "tar.bz2", "tar.zst", "zip"}

// Tar makes a tar archive.
func Tar(entries []Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: e.Mode, ModTime: MTime, Format: tar.FormatPAX}
		switch e.Kind {
		case 'f':
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		case 'd':
			h.Typeflag = tar.TypeDir
		case 'l':
			h.Typeflag = tar.TypeSymlink
			h.Linkname = e.Target
			h.Mode = 0o777
		case 'h':
			h.Typeflag = tar.TypeLink
			h.Linkname = e.Target
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if e.Kind == 'f' {
			tw.Write([]byte(e.Data))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// Zip makes a zip archive (hard links are not representable).
func Zip(entries []Entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: MTime}
		data := e.Data
		switch e.Kind {
		case 'f':
			h.SetMode(fs.FileMode(e.Mode))
		case 'd':
			h.SetMode(fs.ModeDir | fs.FileMode(e.Mode))
		case 'l':
			h.SetMode(fs.ModeSymlink | 0o777)
			data = e.Target
		default:
			panic("zip: unsupported entry kind")
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write([]byte(data))
	}
	zw.Close()
	return buf.Bytes()
}

// Compress compresses data with "gzip", "xz" or "zstd".
func Compress(kind string, data []byte) []byte {
	var buf bytes.Buffer
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			panic(err)
		}
		w.Write(data)
		w.Close()
	case "zstd":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			panic(err)
		}
		w.Write(data)
		w.Close()
	default:
		panic("unknown compression " + kind)
	}
	return buf.Bytes()
}

// Make makes an archive of the given format. Go has no bzip2 writer, so
// "tar.bz2" is only available for Standard (a file in testdata).
func Make(format string, entries []Entry) ([]byte, error) {
	switch format {
	case "tar":
		return Tar(entries), nil
	case "tar.gz":
		return Compress("gzip", Tar(entries)), nil
	case "tar.xz":
		return Compress("xz", Tar(entries)), nil
	case "tar.zst":
		return Compress("zstd", Tar(entries)), nil
	case "zip":
		return Zip(entries), nil
	case "tar.bz2":
		if fmt.Sprint(entries) == fmt.Sprint(Standard) {
			return standardBzip2, nil
		}
		return nil, fmt.Errorf("tar.bz2 archives other than Standard are not available")
	}
	return nil, fmt.Errorf("unknown format %s", format)
}

// CheckStandard checks that dir holds Standard's tree with its top-level
// directory stripped.
func CheckStandard(t testing.TB, dir string) {
	t.Helper()
	checkStandard(t, dir, 0o644, 0o755)
}

// CheckStandardCanonical is CheckStandard for a tree in the store, whose
// files are read-only.
func CheckStandardCanonical(t testing.TB, dir string) {
	t.Helper()
	checkStandard(t, dir, 0o444, 0o555)
}

func checkStandard(t testing.TB, dir string, plain, exec fs.FileMode) {
	t.Helper()
	checkFile(t, filepath.Join(dir, "README"), "hello, archive\n", plain)
	checkFile(t, filepath.Join(dir, "bin/hi"), "#!/bin/sh\necho hi\n", exec)
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "bin/hi" {
		t.Errorf("link: got %q, %v; want a symbolic link to bin/hi", target, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("top level: got %v, want README, bin and link", names)
	}
}

func checkFile(t testing.TB, path, data string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	if string(b) != data {
		t.Errorf("%s: got %q, want %q", path, b, data)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, want regular %v", path, fi.Mode(), mode)
	}
}
