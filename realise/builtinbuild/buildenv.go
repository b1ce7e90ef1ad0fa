package builtinbuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// BuildEnvFileConflictError is two packages of the same priority
// providing the same file. The message is Nix's.
type BuildEnvFileConflictError struct {
	FileA, FileB string
	Priority     int
}

func (e *BuildEnvFileConflictError) Error() string {
	return fmt.Sprintf("Unable to build profile. There is a conflict for the following files:\n\n  %s\n  %s", e.FileA, e.FileB)
}

// envPackage is one package (one output path) of an environment.
type envPackage struct {
	path     string
	active   bool
	priority int
}

// buildenvState is Nix's State of builtin:buildenv.
type buildenvState struct {
	c                *Context
	out              string
	priorities       map[string]int
	symlinks         int
	done             map[string]bool
	postponed        map[string]bool
	ignoreCollisions bool
}

// buildenv is builtin:buildenv, which builds user environments
// (profiles): a tree of symbolic links merging the packages' trees.
//
// The packages come from Nix's "derivations" attribute (repeated
// "ACTIVE PRIORITY N PATH1 … PATHN", as <nix/buildenv.nix> writes it),
// or from nixpkgs' buildEnv forms: "pkgs" (JSON, [{ paths, priority }],
// or a file named by "pkgsPath") or "paths" (whitespace-separated, priority
// 5). Packages are linked in order of priority (a lower number wins),
// then path; two files at the same place with the same priority are a
// conflict, unless ignoreCollisions = "1". Packages named in a package's
// nix-support/propagated-user-env-packages follow with priorities from
// 1000 on, then those listed (one a line) in the files of
// "extraPathsFrom". With "manifest", manifest.nix links to it (required
// with "derivations", as in Nix).
func buildenv(c *Context) error {
	out, err := c.output("out")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var pkgs []envPackage
	drvs, haveDrvs := c.get("derivations")
	switch {
	case haveDrvs:
		toks := fields(drvs)
		for len(toks) > 0 {
			if len(toks) < 3 {
				return fmt.Errorf("malformed 'derivations' attribute: expected ACTIVE PRIORITY COUNT PATHS…")
			}
			active := toks[0]
			prio, err := atoi(toks[1])
			if err != nil {
				return fmt.Errorf("malformed priority in 'derivations': %v", err)
			}
			n, err := atoi(toks[2])
			if err != nil || n < 0 || n > len(toks)-3 {
				return fmt.Errorf("malformed output count in 'derivations': '%s'", toks[2])
			}
			for _, p := range toks[3 : 3+n] {
				pkgs = append(pkgs, envPackage{path: p, active: active != "false", priority: prio})
			}
			toks = toks[3+n:]
		}
	default:
		js, ok := c.get("pkgs")
		if p, okp := c.get("pkgsPath"); okp {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			js, ok = string(b), true
		}
		if ok {
			var list []struct {
				Paths    []string `json:"paths"`
				Priority *int     `json:"priority"`
			}
			if err := json.Unmarshal([]byte(js), &list); err != nil {
				return fmt.Errorf("malformed 'pkgs' attribute: %v", err)
			}
			for _, e := range list {
				prio := 5
				if e.Priority != nil {
					prio = *e.Priority
				}
				for _, p := range e.Paths {
					pkgs = append(pkgs, envPackage{path: p, active: true, priority: prio})
				}
			}
		} else if ps, ok := c.get("paths"); ok {
			for _, p := range fields(ps) {
				pkgs = append(pkgs, envPackage{path: p, active: true, priority: 5})
			}
		} else {
			return fmt.Errorf("attribute 'derivations' missing")
		}
	}
	manifest, haveManifest := c.get("manifest")
	if haveDrvs && !haveManifest {
		return fmt.Errorf("attribute 'manifest' missing")
	}

	st := &buildenvState{c: c, out: out, priorities: map[string]int{}, done: map[string]bool{}, postponed: map[string]bool{},
		ignoreCollisions: c.flag("ignoreCollisions")}
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		return a.priority < b.priority || a.priority == b.priority && a.path < b.path
	})
	for _, p := range pkgs {
		if p.active {
			if err := st.addPkg(p.path, p.priority); err != nil {
				return err
			}
		}
	}
	// Packages propagated by those installed explicitly come later, so
	// they lose collisions.
	counter := 1000
	for len(st.postponed) > 0 {
		dirs := make([]string, 0, len(st.postponed))
		for d := range st.postponed {
			dirs = append(dirs, d)
		}
		sort.Strings(dirs)
		st.postponed = map[string]bool{}
		for _, d := range dirs {
			if err := st.addPkg(d, counter); err != nil {
				return err
			}
			counter++
		}
	}
	if extra, ok := c.get("extraPathsFrom"); ok {
		for _, file := range fields(extra) {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("cannot open extra paths file '%s': %w", file, err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				if fi, err := os.Stat(line); err != nil || !fi.IsDir() {
					continue
				}
				if err := st.addPkg(line, 1000); err != nil {
					return err
				}
			}
		}
	}
	c.logf("created %d symlinks in user environment", st.symlinks)
	if haveManifest && manifest != "" {
		if err := os.Symlink(manifest, filepath.Join(out, "manifest.nix")); err != nil {
			return err
		}
	}
	return nil
}

func (st *buildenvState) addPkg(pkgDir string, priority int) error {
	if st.done[pkgDir] {
		return nil
	}
	st.done[pkgDir] = true
	if err := st.createLinks(pkgDir, st.out, priority); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(pkgDir, "nix-support", "propagated-user-env-packages"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	for _, p := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ' ' || r == '\n' }) {
		if !st.done[p] {
			st.postponed[p] = true
		}
	}
	return nil
}

// ignoredSuffixes are files that would only collide pointlessly or are
// of no use in a profile (Nix's list).
var ignoredSuffixes = []string{"/propagated-build-inputs", "/nix-support", "/perllocal.pod", "/info/dir", "/log", "/manifest.nix", "/manifest.json"}

// createLinks links the entries of srcDir into dstDir, recursing into
// directories two packages share. It follows Nix's createLinks step by
// step.
func (st *buildenvState) createLinks(srcDir, dstDir string, priority int) error {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			st.c.warnf("not including '%s' in the user environment because it's not a directory", srcDir)
			return nil
		}
		return err
	}
	for _, ent := range entries {
		if strings.HasPrefix(ent.Name(), ".") {
			continue // not matched by glob
		}
		if err := st.c.Ctx.Err(); err != nil {
			return err
		}
		srcFile := srcDir + "/" + ent.Name()
		dstFile := dstDir + "/" + ent.Name()
		srcSt, err := os.Stat(srcFile)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				st.c.warnf("skipping dangling symlink '%s'", dstFile)
				continue
			}
			return err
		}
		ignored := false
		for _, s := range ignoredSuffixes {
			if strings.HasSuffix(srcFile, s) {
				ignored = true
			}
		}
		if ignored {
			continue
		}
		dstSt, lerr := os.Lstat(dstFile)
		if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
			return fmt.Errorf("getting status of '%s': %w", dstFile, lerr)
		}
		exists := lerr == nil
		if srcSt.IsDir() {
			if exists {
				if dstSt.IsDir() {
					if err := st.createLinks(srcFile, dstFile, priority); err != nil {
						return err
					}
					continue
				}
				if dstSt.Mode()&fs.ModeSymlink != 0 {
					target, err := filepath.EvalSymlinks(dstFile)
					if err != nil {
						return err
					}
					tSt, err := os.Lstat(target)
					if err != nil {
						return err
					}
					if !tSt.IsDir() {
						return fmt.Errorf("collision between '%s' and non-directory '%s'", srcFile, target)
					}
					if err := os.Remove(dstFile); err != nil {
						return fmt.Errorf("unlinking '%s': %w", dstFile, err)
					}
					if err := os.Mkdir(dstFile, 0o755); err != nil {
						return fmt.Errorf("creating directory '%s': %w", dstFile, err)
					}
					if err := st.createLinks(target, dstFile, st.priorities[dstFile]); err != nil {
						return err
					}
					if err := st.createLinks(srcFile, dstFile, priority); err != nil {
						return err
					}
					continue
				}
			}
		} else if exists {
			if dstSt.Mode()&fs.ModeSymlink != 0 {
				prev := st.priorities[dstFile]
				if prev == priority {
					if st.ignoreCollisions {
						continue
					}
					old, _ := os.Readlink(dstFile)
					return &BuildEnvFileConflictError{FileA: old, FileB: srcFile, Priority: priority}
				}
				if prev < priority {
					continue
				}
				if err := os.Remove(dstFile); err != nil {
					return fmt.Errorf("unlinking '%s': %w", dstFile, err)
				}
			} else if dstSt.IsDir() {
				return fmt.Errorf("collision between non-directory '%s' and directory '%s'", srcFile, dstFile)
			}
		}
		if err := os.Symlink(srcFile, dstFile); err != nil {
			return fmt.Errorf("creating symlink '%s': %w", dstFile, err)
		}
		st.priorities[dstFile] = priority
		st.symlinks++
	}
	return nil
}
