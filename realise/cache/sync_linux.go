package cache

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncTree makes everything below path durable; one syncfs of the store's
// file system is much cheaper than an fsync per file.
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
