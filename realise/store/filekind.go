package store

import (
	"io/fs"
	"os"
)

// FileKind is the type name that path filters (builtins.path,
// builtins.filterSource) receive for a file: "regular", "directory",
// "symlink" or "unknown".
func FileKind(path string) string {
	info, err := os.Lstat(path)
	if err != nil {
		return "unknown"
	}
	switch mode := info.Mode(); {
	case mode.IsRegular():
		return "regular"
	case mode.IsDir():
		return "directory"
	case mode&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "unknown"
}
