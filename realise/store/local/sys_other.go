//go:build !linux

package local

import (
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// removeXattrs does nothing where extended attributes are not handled.
func removeXattrs(path string) error { return nil }

// keepAtime is the access time to set along with the modification time:
// now, where utimensat's UTIME_OMIT is not available.
func keepAtime() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// syncTree makes the file contents and directory entries below path
// durable before the tree is renamed into place.
func syncTree(path string) error {
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		return err
	})
}
