package build

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/realise/store/local"
)

// compareCheck compares the outputs of a --check rebuild with the valid
// ones, and reports each difference file by file.
func (b *Builder) compareCheck(drvPath string, outNames []string, outPaths, produced map[string]string, infos map[string]*local.PathInfo) error {
	var msgs []string
	for _, name := range outNames {
		old, err := b.store.QueryPathInfo(outPaths[name])
		if err != nil {
			return err
		}
		if old.NarHash.Base16() == infos[name].NarHash.Base16() {
			continue
		}
		msg := fmt.Sprintf("derivation '%s' may not be deterministic: output '%s' differs", drvPath, outPaths[name])
		diffs, err := diffTrees(outPaths[name], produced[name])
		if err != nil {
			return err
		}
		for _, d := range diffs {
			msg += "\n  " + d
		}
		if b.opts.KeepFailed {
			dst := outPaths[name] + ".check"
			removeAll(dst)
			if err := os.Rename(produced[name], dst); err == nil {
				msg += fmt.Sprintf("\nnote: the new output is kept at '%s'", dst)
			}
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "\n"))
	}
	return nil
}

// diffTrees lists the differences between the trees a (the valid output)
// and b (the rebuilt one): entries only in one, changed types, modes,
// symlink targets, and files whose contents differ, with their sizes and
// the first differing byte.
func diffTrees(a, b string) ([]string, error) {
	var out []string
	var walk func(rel string) error
	walk = func(rel string) error {
		pa, pb := filepath.Join(a, rel), filepath.Join(b, rel)
		show := rel
		if show == "" {
			show = "."
		}
		ia, errA := os.Lstat(pa)
		ib, errB := os.Lstat(pb)
		switch {
		case errA != nil && errB != nil:
			return nil
		case errA != nil:
			out = append(out, fmt.Sprintf("'%s' exists only in the new output", show))
			return nil
		case errB != nil:
			out = append(out, fmt.Sprintf("'%s' is missing from the new output", show))
			return nil
		}
		ta, tb := kind(ia.Mode()), kind(ib.Mode())
		if ta != tb {
			out = append(out, fmt.Sprintf("'%s' changed from a %s to a %s", show, ta, tb))
			return nil
		}
		switch ta {
		case "directory":
			names := map[string]bool{}
			for _, p := range []string{pa, pb} {
				entries, err := os.ReadDir(p)
				if err != nil {
					return err
				}
				for _, e := range entries {
					names[e.Name()] = true
				}
			}
			for _, n := range sortedKeys(names) {
				if err := walk(filepath.Join(rel, n)); err != nil {
					return err
				}
			}
		case "symlink":
			la, _ := os.Readlink(pa)
			lb, _ := os.Readlink(pb)
			if la != lb {
				out = append(out, fmt.Sprintf("symlink '%s' changed target from '%s' to '%s'", show, la, lb))
			}
		case "regular file":
			if (ia.Mode()&0o100 != 0) != (ib.Mode()&0o100 != 0) {
				out = append(out, fmt.Sprintf("file '%s' changed its executable bit", show))
			}
			off, err := firstDifference(pa, pb)
			if err != nil {
				return err
			}
			if off >= 0 {
				out = append(out, fmt.Sprintf("file '%s' differs: sizes %d and %d bytes, first difference at byte %d", show, ia.Size(), ib.Size(), off))
			}
		}
		return nil
	}
	err := walk("")
	return out, err
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}

// firstDifference returns the offset of the first byte where the files
// differ (the length of the shorter one if it is a prefix of the other),
// or -1 if they are equal.
func firstDifference(a, b string) (int64, error) {
	fa, err := os.Open(a)
	if err != nil {
		return 0, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return 0, err
	}
	defer fb.Close()
	ra, rb := bufio.NewReaderSize(fa, 64<<10), bufio.NewReaderSize(fb, 64<<10)
	var off int64
	bufA, bufB := make([]byte, 32<<10), make([]byte, 32<<10)
	for {
		na, errA := io.ReadFull(ra, bufA)
		nb, errB := io.ReadFull(rb, bufB)
		n := min(na, nb)
		if i := mismatch(bufA[:n], bufB[:n]); i >= 0 {
			return off + int64(i), nil
		}
		if na != nb {
			return off + int64(n), nil
		}
		off += int64(n)
		endA := errA == io.EOF || errA == io.ErrUnexpectedEOF
		endB := errB == io.EOF || errB == io.ErrUnexpectedEOF
		if errA != nil && !endA {
			return 0, errA
		}
		if errB != nil && !endB {
			return 0, errB
		}
		if endA || endB {
			if endA && endB {
				return -1, nil
			}
			return off, nil
		}
	}
}

func mismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
