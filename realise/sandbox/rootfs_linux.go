package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// mountRootFS builds the sandbox's root from spec.RootFS (see
// Spec.RootFS): a tmpfs on spec.Root holding read-only bind mounts of
// RootFS's entries, with Root's own entries (reached through a
// descriptor opened before the tmpfs hides them) laid over them.
// Directories that both have, and those on the way to a mount target,
// are real directories of the tmpfs that merge their entries; entries
// at a mount target are left out for the mount to create its own mount
// point. /dev and /proc are left out: the sandbox makes its own.
func mountRootFS(spec *Spec) error {
	st, err := os.Stat(spec.RootFS)
	if err != nil {
		return fmt.Errorf("the root file system: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("the root file system '%s' is not a directory", spec.RootFS)
	}
	fd, err := unix.Open(spec.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: spec.Root, Err: err}
	}
	defer unix.Close(fd)
	overlay := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Mount("none", spec.Root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mounting the root tmpfs on '%s': %w", spec.Root, err)
	}
	u := &rootUnion{targets: map[string]bool{}, ancestors: map[string]bool{"/dev": true, "/proc": true}}
	for _, m := range spec.Mounts {
		t := filepath.Clean("/" + m.Target)
		if _, err := os.Stat(m.Source); err != nil && m.Optional {
			continue // the mount will not happen: keep RootFS's entry
		}
		u.targets[t] = true
		for d := filepath.Dir(t); d != "/"; d = filepath.Dir(d) {
			u.ancestors[d] = true
		}
	}
	return u.merge(spec.Root, "/", spec.RootFS, overlay)
}

// rootUnion merges RootFS (a) and Root (b) into the root tmpfs.
type rootUnion struct {
	// targets are the mount targets; ancestors the directories above
	// them (and /dev, /proc), which must be real tmpfs directories.
	targets, ancestors map[string]bool
}

// merge fills the tmpfs directory dst (the sandbox's rel) with the
// entries of the directories a and b, either of which may be "".
func (u *rootUnion) merge(dst, rel, a, b string) error {
	names := map[string]bool{}
	for _, dir := range []string{a, b} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			names[e.Name()] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, name := range sorted {
		childRel := filepath.Join(rel, name)
		if rel == "/" && (name == "dev" || name == "proc") {
			continue
		}
		aChild, aInfo := lstatIn(a, name)
		bChild, bInfo := lstatIn(b, name)
		if bInfo == nil && u.targets[childRel] {
			continue
		}
		target := filepath.Join(dst, name)
		aDir := aInfo != nil && aInfo.IsDir()
		bDir := bInfo != nil && bInfo.IsDir()
		if u.ancestors[childRel] || aDir && bDir {
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
			if !aDir {
				aChild = ""
			}
			if !bDir {
				bChild = ""
			}
			if err := u.merge(target, childRel, aChild, bChild); err != nil {
				return err
			}
			continue
		}
		src, info := aChild, aInfo
		if bInfo != nil {
			src, info = bChild, bInfo
		}
		if err := placeReadOnly(src, info, target); err != nil {
			return err
		}
	}
	return nil
}

// lstatIn returns dir/name and its file information, or nil when dir is
// "" or has no such entry.
func lstatIn(dir, name string) (string, fs.FileInfo) {
	if dir == "" {
		return "", nil
	}
	p := filepath.Join(dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return "", nil
	}
	return p, fi
}

// placeReadOnly makes src visible at target, which does not exist yet:
// a symbolic link is copied (it is resolved inside the sandbox), a
// directory or regular file is bind-mounted read-only, anything else is
// left out.
func placeReadOnly(src string, info fs.FileInfo, target string) error {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(link, target)
	case info.IsDir():
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
	case info.Mode().IsRegular():
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444)
		if err != nil {
			return err
		}
		f.Close()
	default:
		return nil
	}
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting '%s' at '%s': %w", src, target, err)
	}
	if err := remountReadOnly(target); err != nil {
		return fmt.Errorf("making '%s' read-only: %w", target, err)
	}
	return nil
}

// mergeRootFS makes the entries of RootFS's directory at m.Target that
// the directory mounted there lacks visible in it, read-only.
func mergeRootFS(root, rootFS string, m Mount) error {
	src, ok := realDirIn(rootFS, m.Target)
	if !ok {
		return nil
	}
	dst := filepath.Join(root, m.Target)
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(dst, e.Name())); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		p := filepath.Join(src, e.Name())
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if err := placeReadOnly(p, info, filepath.Join(dst, e.Name())); err != nil {
			return fmt.Errorf("showing the root file system's '%s' in '%s': %w", filepath.Join(m.Target, e.Name()), m.Target, err)
		}
	}
	return nil
}

// realDirIn returns base/rel when every component of rel below base is
// a real directory (no symbolic link leads out of base).
func realDirIn(base, rel string) (string, bool) {
	p := base
	for _, c := range strings.Split(filepath.Clean("/"+rel), "/") {
		if c == "" {
			continue
		}
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			return "", false
		}
	}
	return p, true
}

// finishRootFS makes the root tmpfs read-only once everything is
// mounted in it.
func finishRootFS(root string) error {
	if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("making the root read-only: %w", err)
	}
	return nil
}
