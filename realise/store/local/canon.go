package local

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// mtimeStore is the modification time of every file in the store, as in
// Nix: a fixed time makes builds that record it reproducible.
const mtimeStore = 1

// Canonicalise gives the tree at path the metadata of store contents:
// regular files become 0444 (0555 if the owner could execute them),
// directories 0555, setuid, setgid and sticky bits are dropped, extended
// attributes removed, and every modification time set to 1 (1970-01-01
// 00:00:01). Ownership is left alone, as a store owned by the user running
// nixl needs no root. Children are handled before their directory, which
// would otherwise become read-only too early.
func Canonicalise(path string) error {
	return canonicalise(path)
}

func canonicalise(path string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	mode := info.Mode()
	if mode.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := canonicalise(filepath.Join(path, e.Name())); err != nil {
				return err
			}
		}
	} else if !mode.IsRegular() && mode&fs.ModeSymlink == 0 {
		return fmt.Errorf("file '%s' has an unsupported type (%v)", path, mode.Type())
	}
	if err := removeXattrs(path); err != nil {
		return err
	}
	if mode&fs.ModeSymlink == 0 {
		want := fs.FileMode(0o444)
		if mode.IsDir() || mode&0o100 != 0 {
			want = 0o555
		}
		if mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != want {
			if err := os.Chmod(path, want); err != nil {
				return err
			}
		}
	}
	if mt := info.ModTime(); mt.Unix() != mtimeStore || mt.Nanosecond() != 0 {
		ts := []unix.Timespec{keepAtime(), {Sec: mtimeStore}}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "utimensat", Path: path, Err: err}
		}
	}
	return nil
}

// diskUsage is the space a file occupies, counted only for files without
// other hard links, since removing a link to a file that stays frees
// nothing.
func diskUsage(info fs.FileInfo) uint64 {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return uint64(max(info.Size(), 0))
	}
	if !info.IsDir() && st.Nlink > 1 {
		return 0
	}
	return uint64(st.Blocks) * 512
}
