package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/realise/store/local"
)

// Profile is the profile whose link is Path.
type Profile struct {
	Path string
}

// Open returns the profile at path (made absolute); nothing needs to
// exist yet.
func Open(path string) (*Profile, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return &Profile{Path: abs}, nil
}

// Generation is one numbered generation of a profile.
type Generation struct {
	Number int
	// Link is <profile>-<Number>-link, StorePath its target.
	Link      string
	StorePath string
	// Time is when the generation was made (the link's mtime).
	Time    time.Time
	Current bool
}

// GenerationLink is the link of generation n.
func (p *Profile) GenerationLink(n int) string {
	return fmt.Sprintf("%s-%d-link", p.Path, n)
}

// parseGeneration returns the number of a generation link's base name.
func (p *Profile) parseGeneration(base string) (int, bool) {
	rest, ok := strings.CutPrefix(base, filepath.Base(p.Path)+"-")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, "-link")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n > 0
}

// Current returns the number of the current generation, or 0 if the
// profile does not exist.
func (p *Profile) Current() (int, error) {
	target, err := os.Readlink(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(pe.Err, unix.EINVAL) {
		return 0, fmt.Errorf("'%s' is not a profile: it is not a symbolic link", p.Path)
	}
	if err != nil {
		return 0, fmt.Errorf("reading profile '%s': %w", p.Path, err)
	}
	if filepath.IsAbs(target) && filepath.Dir(target) != filepath.Dir(p.Path) {
		return 0, fmt.Errorf("profile '%s' points to '%s', which is not one of its generations", p.Path, target)
	}
	n, ok := p.parseGeneration(filepath.Base(target))
	if !ok {
		return 0, fmt.Errorf("profile '%s' points to '%s', which is not one of its generations", p.Path, target)
	}
	return n, nil
}

// Generations returns the generations, oldest first.
func (p *Profile) Generations() ([]Generation, error) {
	dir := filepath.Dir(p.Path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cur, err := p.Current()
	if err != nil {
		return nil, err
	}
	var gens []Generation
	for _, e := range entries {
		n, ok := p.parseGeneration(e.Name())
		if !ok || e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		link := filepath.Join(dir, e.Name())
		target, err := os.Readlink(link)
		if err != nil {
			return nil, err
		}
		info, err := os.Lstat(link)
		if err != nil {
			return nil, err
		}
		gens = append(gens, Generation{Number: n, Link: link, StorePath: target, Time: info.ModTime(), Current: n == cur})
	}
	slices.SortFunc(gens, func(a, b Generation) int { return a.Number - b.Number })
	return gens, nil
}

// Lock takes the profile's lock (<profile>.lock), which serialises
// changes to it between processes, creating its directory if needed.
func (p *Profile) Lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(p.Path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking profile '%s': %w", p.Path, err)
	}
	return func() { f.Close() }, nil
}

// AddGeneration makes storePath (which must be valid in st) the profile's
// newest generation and registers its link as a garbage collector root;
// if the newest generation is storePath already, it is reused. It does
// not switch to it (see Switch). The caller holds the lock.
func (p *Profile) AddGeneration(st *local.Store, storePath string) (gen Generation, created bool, err error) {
	gens, err := p.Generations()
	if err != nil {
		return Generation{}, false, err
	}
	n := 1
	if len(gens) > 0 {
		last := gens[len(gens)-1]
		if last.StorePath == storePath {
			return last, false, nil
		}
		n = last.Number + 1
	}
	link := p.GenerationLink(n)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return Generation{}, false, err
	}
	if err := local.ReplaceSymlink(storePath, link); err != nil {
		return Generation{}, false, err
	}
	if err := registerRoot(st, link); err != nil {
		os.Remove(link)
		return Generation{}, false, err
	}
	info, err := os.Lstat(link)
	if err != nil {
		return Generation{}, false, err
	}
	return Generation{Number: n, Link: link, StorePath: storePath, Time: info.ModTime()}, true, nil
}

// registerRoot makes a generation link a root: links below the store's
// profiles directory are roots already; others become indirect roots.
func registerRoot(st *local.Store, link string) error {
	if isBelow(link, st.ProfilesDir()) {
		return nil
	}
	return st.AddIndirectRoot(link)
}

func isBelow(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && rel != "."
}

// Switch makes generation n current, atomically. The caller holds the
// lock.
func (p *Profile) Switch(n int) error {
	link := p.GenerationLink(n)
	if _, err := os.Lstat(link); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("profile version %d does not exist", n)
	} else if err != nil {
		return err
	}
	return local.ReplaceSymlink(filepath.Base(link), p.Path)
}

// Previous returns the number of the newest generation older than the
// current one.
func (p *Profile) Previous() (int, error) {
	gens, err := p.Generations()
	if err != nil {
		return 0, err
	}
	cur, err := p.Current()
	if err != nil {
		return 0, err
	}
	if cur == 0 {
		return 0, fmt.Errorf("profile '%s' does not exist", p.Path)
	}
	prev := 0
	for _, g := range gens {
		if g.Number < cur {
			prev = g.Number
		}
	}
	if prev == 0 {
		return 0, fmt.Errorf("no generation older than the current (%d) exists", cur)
	}
	return prev, nil
}

// DeleteGeneration removes the link of generation n, which must not be
// the current one; the paths only it kept alive become garbage. The
// caller holds the lock.
func (p *Profile) DeleteGeneration(n int) error {
	cur, err := p.Current()
	if err != nil {
		return err
	}
	if n == cur {
		return fmt.Errorf("cannot delete the current version %d of profile '%s'", n, p.Path)
	}
	if err := os.Remove(p.GenerationLink(n)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("profile version %d does not exist", n)
		}
		return err
	}
	return nil
}

// OldGenerations returns the generations wipe-history deletes: all but
// the current one; or, when olderThan is non-zero, those made more than
// olderThan before now, except the newest of them (which was current
// at that time) and the current one, as Nix's
// --delete-generations Nd does.
func (p *Profile) OldGenerations(olderThan time.Duration, now time.Time) ([]Generation, error) {
	gens, err := p.Generations()
	if err != nil {
		return nil, err
	}
	var out []Generation
	if olderThan == 0 {
		for _, g := range gens {
			if !g.Current {
				out = append(out, g)
			}
		}
		return out, nil
	}
	cutoff := now.Add(-olderThan)
	keptOne := false
	for i := len(gens) - 1; i >= 0; i-- {
		g := gens[i]
		if !g.Time.Before(cutoff) {
			continue
		}
		if !keptOne {
			keptOne = true
			continue
		}
		if !g.Current {
			out = append(out, g)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// ParseAge parses the argument of --older-than: a number of days, "30d".
func ParseAge(s string) (time.Duration, error) {
	digits, ok := strings.CutSuffix(s, "d")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("invalid number of days specifier '%s', expected something like '14d'", s)
	}
	if n > 1<<20 {
		return 0, fmt.Errorf("number of days '%s' is too large", s)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
