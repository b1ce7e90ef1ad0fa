package sandbox

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultPaths is the default sandbox-paths setting: a shell at /bin/sh, as
// Nix distributions configure it. A statically linked shell is preferred:
// the host's /bin/sh if it is static, else a static busybox (whose
// applets, mkdir, cp, sed…, its shell runs without a PATH), else the host's
// /bin/sh, whose ELF interpreter and libraries PathMounts then binds too.
func DefaultPaths() []string {
	if isStaticELF("/bin/sh") {
		return []string{"/bin/sh"}
	}
	for _, bb := range []string{"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox", "/usr/sbin/busybox"} {
		if isStaticELF(bb) {
			return []string{"/bin/sh=" + bb}
		}
	}
	return []string{"/bin/sh"}
}

func isStaticELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return false
		}
	}
	return f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN
}

// PathMounts turns sandbox-paths entries into read-only mounts. An entry
// is "PATH" (the host path at the same place), "TARGET=SOURCE", and may end
// in "?" when the source may be missing. For an ELF executable or library
// that is dynamically linked, its interpreter and the libraries it needs
// (found as the dynamic loader would: RPATH/RUNPATH, ld.so.conf, the
// default directories) are mounted at the paths the loader looks for them.
func PathMounts(entries []string) ([]Mount, error) {
	var out []Mount
	seen := map[string]bool{}
	add := func(m Mount) {
		if !seen[m.Target] {
			seen[m.Target] = true
			out = append(out, m)
		}
	}
	for _, e := range entries {
		if e == "" {
			continue
		}
		optional := strings.HasSuffix(e, "?")
		e = strings.TrimSuffix(e, "?")
		target, source, ok := strings.Cut(e, "=")
		if !ok {
			source = target
		}
		if !filepath.IsAbs(target) || !filepath.IsAbs(source) {
			return nil, fmt.Errorf("sandbox path '%s' must be absolute", e)
		}
		if _, err := os.Stat(source); err != nil {
			if optional {
				continue
			}
			return nil, fmt.Errorf("sandbox path '%s': %w", source, err)
		}
		add(Mount{Source: source, Target: target, Optional: optional})
		deps, err := elfDeps(source)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			add(d)
		}
	}
	return out, nil
}

// elfDeps returns the mounts of the interpreter and libraries path needs,
// recursively; nothing for files that are not dynamically linked ELF
// objects.
func elfDeps(path string) ([]Mount, error) {
	var out []Mount
	seen := map[string]bool{}
	var visit func(path string) error
	visit = func(path string) error {
		f, err := elf.Open(path)
		if err != nil {
			return nil // not ELF: nothing to add
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type != elf.PT_INTERP {
				continue
			}
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return fmt.Errorf("reading the ELF interpreter of '%s': %w", path, err)
			}
			interp := strings.TrimRight(string(b), "\x00")
			if !seen[interp] {
				seen[interp] = true
				out = append(out, Mount{Source: interp, Target: interp})
			}
		}
		needed, err := f.ImportedLibraries()
		if err != nil || len(needed) == 0 {
			return nil
		}
		dirs := searchDirs(f, path)
		for _, lib := range needed {
			if strings.Contains(lib, "/") {
				if !seen[lib] {
					seen[lib] = true
					out = append(out, Mount{Source: lib, Target: lib})
					if err := visit(lib); err != nil {
						return err
					}
				}
				continue
			}
			found := ""
			for _, d := range dirs {
				cand := filepath.Join(d, lib)
				if compatibleELF(cand, f) {
					found = cand
					break
				}
			}
			if found == "" {
				return fmt.Errorf("sandbox path '%s' needs the library '%s', which was not found", path, lib)
			}
			if seen[found] {
				continue
			}
			seen[found] = true
			out = append(out, Mount{Source: found, Target: found})
			if err := visit(found); err != nil {
				return err
			}
		}
		return nil
	}
	err := visit(path)
	return out, err
}

// searchDirs lists where the dynamic loader looks for the libraries of f.
func searchDirs(f *elf.File, path string) []string {
	var dirs []string
	origin := filepath.Dir(path)
	for _, tag := range []elf.DynTag{elf.DT_RPATH, elf.DT_RUNPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	dirs = append(dirs, ldSoConfDirs("/etc/ld.so.conf", 0)...)
	if f.Class == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// ldSoConfDirs reads the directories of an ld.so.conf file, following its
// include lines.
func ldSoConfDirs(file string, depth int) []string {
	if depth > 8 {
		return nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var dirs []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "include "):
			pattern := strings.TrimSpace(strings.TrimPrefix(line, "include "))
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(file), pattern)
			}
			matches, _ := filepath.Glob(pattern)
			for _, m := range matches {
				dirs = append(dirs, ldSoConfDirs(m, depth+1)...)
			}
		default:
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// compatibleELF reports whether path is an ELF object of the class and
// machine of ref.
func compatibleELF(path string, ref *elf.File) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Class == ref.Class && f.Machine == ref.Machine
}
