package builtinbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mkpkg makes a package tree: files maps relative paths to contents
// ("->target" makes a symbolic link).
func mkpkg(t *testing.T, base, name string, files map[string]string) string {
	t.Helper()
	root := filepath.Join(base, name)
	for rel, data := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(data, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(root, 0o755)
	return root
}

func readlink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return s
}

func TestBuildenvMerge(t *testing.T) {
	base := t.TempDir()
	a := mkpkg(t, base, "a", map[string]string{"bin/a": "a", "share/doc/a": "a", "nix-support/setup-hook": "x", "share/info/dir": "x", ".hidden": "h", "lib/dangling": "->/nonexistent"})
	b := mkpkg(t, base, "b", map[string]string{"bin/b": "b", "share/man/b.1": "b", "lib/libb": "b", "share/info/b.info": "b"})
	manifest := mkpkg(t, base, "manifest", map[string]string{"m": "x"})
	out, log, err := run(t, "builtin:buildenv", map[string]string{
		"derivations": "true 5 1 " + a + " true 5 1 " + b,
		"manifest":    manifest,
	})
	if err != nil {
		t.Fatal(err)
	}
	// bin is shared, so it is a real directory of links; share/doc and
	// share/man come from one package each, so they are links.
	if fi, err := os.Lstat(filepath.Join(out, "bin")); err != nil || !fi.IsDir() {
		t.Fatalf("bin: %v, %v", fi, err)
	}
	for rel, target := range map[string]string{"bin/a": a + "/bin/a", "bin/b": b + "/bin/b", "share/doc": a + "/share/doc", "share/man": b + "/share/man", "lib/libb": b + "/lib/libb", "manifest.nix": manifest} {
		if got := readlink(t, filepath.Join(out, rel)); got != target {
			t.Errorf("%s -> %s, want %s", rel, got, target)
		}
	}
	for _, rel := range []string{"nix-support", "share/info/dir", ".hidden", "lib/dangling"} {
		if _, err := os.Lstat(filepath.Join(out, rel)); err == nil {
			t.Errorf("%s was linked", rel)
		}
	}
	if !strings.Contains(log, "skipping dangling symlink '"+out+"/lib/dangling'") || !strings.Contains(log, "created ") {
		t.Errorf("log %q", log)
	}
}

func TestBuildenvPriorities(t *testing.T) {
	base := t.TempDir()
	hi := mkpkg(t, base, "hi", map[string]string{"bin/tool": "hi"})
	lo := mkpkg(t, base, "lo", map[string]string{"bin/tool": "lo", "bin/other": "lo"})
	for _, order := range [][2]string{{"true 1 1 " + hi, "true 10 1 " + lo}, {"true 10 1 " + lo, "true 1 1 " + hi}} {
		out, _, err := run(t, "builtin:buildenv", map[string]string{"derivations": order[0] + " " + order[1], "manifest": "/m"})
		if err != nil {
			t.Fatal(err)
		}
		if got := readlink(t, filepath.Join(out, "bin/tool")); got != hi+"/bin/tool" {
			t.Errorf("bin/tool -> %s, want the priority 1 package's", got)
		}
		if got := readlink(t, filepath.Join(out, "bin/other")); got != lo+"/bin/other" {
			t.Errorf("bin/other -> %s", got)
		}
	}
	// Inactive packages are left out.
	out, _, err := run(t, "builtin:buildenv", map[string]string{"derivations": "false 5 1 " + hi, "manifest": "/m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(out, "bin")); err == nil {
		t.Error("an inactive package was linked")
	}
}

func TestBuildenvCollision(t *testing.T) {
	base := t.TempDir()
	a := mkpkg(t, base, "a", map[string]string{"bin/tool": "a"})
	b := mkpkg(t, base, "b", map[string]string{"bin/tool": "b"})
	_, _, err := run(t, "builtin:buildenv", map[string]string{"derivations": "true 5 1 " + a + " true 5 1 " + b, "manifest": "/m"})
	var ce *BuildEnvFileConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a conflict", err)
	}
	want := "Unable to build profile. There is a conflict for the following files:\n\n  " + a + "/bin/tool\n  " + b + "/bin/tool"
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", err, want)
	}
	// A file against a directory.
	c := mkpkg(t, base, "c", map[string]string{"bin/tool/x": "c"})
	_, _, err = run(t, "builtin:buildenv", map[string]string{"derivations": "true 5 1 " + a + " true 5 1 " + c, "manifest": "/m"})
	if err == nil || err.Error() != "collision between '"+c+"/bin/tool' and non-directory '"+a+"/bin/tool'" {
		t.Errorf("dir over file: %v", err)
	}
	// ignoreCollisions keeps the first.
	out, _, err := run(t, "builtin:buildenv", map[string]string{"paths": a + " " + b, "ignoreCollisions": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readlink(t, filepath.Join(out, "bin/tool")); got != a+"/bin/tool" {
		t.Errorf("bin/tool -> %s", got)
	}
}

func TestBuildenvPropagatedAndExtra(t *testing.T) {
	base := t.TempDir()
	dep := mkpkg(t, base, "dep", map[string]string{"bin/dep": "d", "bin/tool": "dep"})
	main := mkpkg(t, base, "main", map[string]string{"bin/tool": "main", "nix-support/propagated-user-env-packages": dep + "\n"})
	extra := mkpkg(t, base, "extra", map[string]string{"share/extra": "e"})
	list := filepath.Join(base, "extra-paths")
	os.WriteFile(list, []byte(extra+"\n/nonexistent\n"), 0o644)
	out, _, err := run(t, "builtin:buildenv", map[string]string{
		"pkgs":           `[{"paths":["` + main + `"],"priority":5}]`,
		"extraPathsFrom": list,
		"manifest":       "/the/manifest",
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, target := range map[string]string{"bin/tool": main + "/bin/tool", "bin/dep": dep + "/bin/dep", "share": extra + "/share", "manifest.nix": "/the/manifest"} {
		if got := readlink(t, filepath.Join(out, rel)); got != target {
			t.Errorf("%s -> %s, want %s", rel, got, target)
		}
	}
	if _, _, err := run(t, "builtin:buildenv", map[string]string{"derivations": "true 5 1 " + main}); err == nil || err.Error() != "attribute 'manifest' missing" {
		t.Errorf("no manifest: %v", err)
	}
	if _, _, err := run(t, "builtin:buildenv", map[string]string{}); err == nil || err.Error() != "attribute 'derivations' missing" {
		t.Errorf("no packages: %v", err)
	}
	if _, _, err := run(t, "builtin:buildenv", map[string]string{"derivations": "true 5 3 " + main, "manifest": "/m"}); err == nil {
		t.Errorf("malformed derivations accepted")
	}
}
