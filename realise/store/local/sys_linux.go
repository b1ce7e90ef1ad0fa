package local

import (
	"bytes"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// removeXattrs deletes the extended attributes of path (without following
// a symlink), except those the kernel manages itself, as Nix does.
func removeXattrs(path string) error {
	size, err := unix.Llistxattr(path, nil)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS) {
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "llistxattr", Path: path, Err: err}
	}
	if size == 0 {
		return nil
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(path, buf)
	if err != nil {
		return &os.PathError{Op: "llistxattr", Path: path, Err: err}
	}
	for _, name := range bytes.Split(buf[:size], []byte{0}) {
		n := string(name)
		if n == "" || n == "security.selinux" || n == "system.nfs4_acl" {
			continue
		}
		if err := unix.Lremovexattr(path, n); err != nil && !errors.Is(err, unix.ENODATA) {
			return &os.PathError{Op: "lremovexattr", Path: path, Err: err}
		}
	}
	return nil
}

// keepAtime is the utimensat time that leaves the access time alone.
func keepAtime() unix.Timespec { return unix.Timespec{Nsec: unix.UTIME_OMIT} }

// syncTree makes the file contents and directory entries below path
// durable before the tree is renamed into place. One syncfs of the store's
// file system is much cheaper than an fsync per file of a large tree.
func syncTree(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: path, Err: err}
	}
	return nil
}
