package eval

import (
	"path/filepath"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/lang"
)

// allowedPaths are the roots a pure evaluation may read below (Nix's
// allowedPaths): what the caller allowed (the directory of the file named
// on the command line), the entries of the search path, and the store
// paths the evaluation got hold of through string contexts. Each root is
// kept as given (canonical) and with its symbolic links resolved.
type allowedPaths struct {
	mu    sync.Mutex
	init  bool
	roots map[string]bool
}

// AllowPath lets a pure evaluation read path and everything below it.
// It has no effect on an impure evaluation, which may read anything.
func (e *Eval) AllowPath(path string) {
	a := &e.allowed
	a.mu.Lock()
	defer a.mu.Unlock()
	e.initAllowedLocked()
	a.addLocked(path)
}

func (a *allowedPaths) addLocked(path string) {
	if path == "" || !filepath.IsAbs(path) {
		return
	}
	p := CanonPath(path)
	a.roots[p] = true
	if r := resolveExisting(p); r != p {
		a.roots[r] = true
	}
}

// initAllowedLocked adds the search path's directories the first time.
func (e *Eval) initAllowedLocked() {
	a := &e.allowed
	if a.init {
		return
	}
	a.init = true
	a.roots = map[string]bool{}
	for _, sp := range e.SearchPath {
		p := sp.Path
		if p == "" || strings.Contains(p, "://") {
			continue
		}
		if !filepath.IsAbs(p) {
			abs, err := filepath.Abs(p)
			if err != nil {
				continue
			}
			p = abs
		}
		a.addLocked(p)
	}
}

// CheckPath reports whether evaluation may read path: always when it is
// impure; in pure evaluation mode only the evaluator's internal files and
// paths inside an allowed root (see AllowPath), checked both as written
// (with "." and ".." applied) and with every symbolic link resolved, so
// that neither "root/../x" nor a link inside a root pointing elsewhere
// escapes. The error is ErrRestricted, as Nix's "access to absolute path
// … is forbidden in pure eval mode".
func (e *Eval) CheckPath(path string) error {
	if !e.PureEval {
		return nil
	}
	p := CanonPath(path)
	if p == InternalDir || strings.HasPrefix(p, InternalDir+"/") {
		return nil
	}
	a := &e.allowed
	a.mu.Lock()
	defer a.mu.Unlock()
	e.initAllowedLocked()
	if !a.containsLocked(p) {
		return Errorf(ErrRestricted, lang.NoPos, "access to absolute path '%s' is forbidden in pure eval mode (use '--impure' to override)", p)
	}
	if r := resolveExisting(p); r != p && !a.containsLocked(r) {
		return Errorf(ErrRestricted, lang.NoPos, "access to canonical path '%s' (from '%s') is forbidden in pure eval mode (use '--impure' to override)", r, p)
	}
	return nil
}

func (a *allowedPaths) containsLocked(p string) bool {
	for cur := p; ; {
		if a.roots[cur] {
			return true
		}
		if cur == "/" {
			return false
		}
		cur = filepath.Dir(cur)
	}
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of the canonical absolute path p and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			if rest == "" {
				return r
			}
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		if rest == "" {
			rest = filepath.Base(cur)
		} else {
			rest = filepath.Join(filepath.Base(cur), rest)
		}
		cur = parent
	}
}
