package profile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/realise/builtinbuild"
	"github.com/nixl-project/nixl/realise/store/local"
)

func testStore(t *testing.T) *local.Store {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	st, err := local.Open(local.Options{StoreDir: filepath.Join(dir, "store"), StateDir: filepath.Join(dir, "var")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pkg adds a package to the store: a tree with the given files
// (relative path → contents).
func pkg(t *testing.T, st *local.Store, name string, files map[string]string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	for rel, contents := range files {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(contents), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p, err := st.AddPath(name, src, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func elem(name, version, path string, prio int) Element {
	return Element{Name: name, Version: version, AttrPath: name, Outputs: []string{"out"}, StorePaths: []string{path}, Priority: prio}
}

func TestBuildEnv(t *testing.T) {
	st := testStore(t)
	a := pkg(t, st, "a-1.0", map[string]string{"bin/a": "A", "share/doc/a": "doc a"})
	b := pkg(t, st, "b-2", map[string]string{"bin/b": "B", "share/doc/b": "doc b"})
	m := &Manifest{}
	m.Install(elem("b", "2", b, DefaultPriority))
	m.Install(elem("a", "1.0", a, DefaultPriority))
	env, err := Build(context.Background(), st, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(env, "-profile") {
		t.Errorf("env %s", env)
	}
	// bin/ is merged: a real directory with a link per package.
	if fi, err := os.Lstat(filepath.Join(env, "bin")); err != nil || !fi.IsDir() {
		t.Fatalf("bin is not a directory: %v", err)
	}
	for link, want := range map[string]string{"bin/a": a + "/bin/a", "bin/b": b + "/bin/b", "share/doc/b": b + "/share/doc/b"} {
		if got, err := os.Readlink(filepath.Join(env, link)); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %s", link, got, err, want)
		}
	}
	got, err := ReadManifest(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Elements) != 2 || got.Elements[0].Name != "a" || got.Elements[1].StorePaths[0] != b {
		t.Errorf("manifest %+v", got)
	}
	refs, err := st.QueryReferences(env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(refs, []string{a, b}) && !slices.Equal(refs, []string{b, a}) {
		t.Errorf("references %v", refs)
	}
	info, err := st.QueryPathInfo(env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.CA, "fixed:r:sha256:") {
		t.Errorf("CA %q", info.CA)
	}
	// The same elements give the same path.
	again, err := Build(context.Background(), st, got, nil)
	if err != nil || again != env {
		t.Errorf("rebuilt as %s (%v), want %s", again, err, env)
	}
	// Same file, same priority: a conflict; a lower number wins.
	a2 := pkg(t, st, "a-2.0", map[string]string{"bin/a": "A2"})
	m.Install(elem("a2", "2.0", a2, DefaultPriority))
	_, err = Build(context.Background(), st, m, nil)
	var conflict *builtinbuild.BuildEnvFileConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("no conflict: %v", err)
	}
	m.Elements[m.Find("a2")].Priority = 4
	env2, err := Build(context.Background(), st, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(env2, "bin/a")); got != a2+"/bin/a" {
		t.Errorf("bin/a -> %s, want the priority 4 package's", got)
	}
	// An empty profile holds only its manifest.
	empty, err := Build(context.Background(), st, &Manifest{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(empty)
	if len(entries) != 1 || entries[0].Name() != ManifestName {
		t.Errorf("empty profile holds %v", entries)
	}
	// Invalid packages are refused.
	if _, err := Build(context.Background(), st, &Manifest{Elements: []Element{elem("x", "", st.Dir()+"/00000000000000000000000000000000-x", 5)}}, nil); err == nil || !strings.Contains(err.Error(), "is not valid") {
		t.Errorf("invalid package: %v", err)
	}
}

// setTime sets the date of a generation link.
func setTime(t *testing.T, link string, tm time.Time) {
	t.Helper()
	if err := unix.Lutimes(link, []unix.Timeval{unix.NsecToTimeval(tm.UnixNano()), unix.NsecToTimeval(tm.UnixNano())}); err != nil {
		t.Fatal(err)
	}
}

func numbers(gens []Generation) []int {
	var out []int
	for _, g := range gens {
		out = append(out, g.Number)
	}
	return out
}

func TestGenerations(t *testing.T) {
	st := testStore(t)
	prof, err := Open(filepath.Join(st.ProfilesDir(), "profile"))
	if err != nil {
		t.Fatal(err)
	}
	if cur, err := prof.Current(); err != nil || cur != 0 {
		t.Fatalf("current of a new profile: %d %v", cur, err)
	}
	if _, err := prof.Previous(); err == nil {
		t.Error("rollback of a new profile")
	}
	var envs, pkgs []string
	for i := range 4 {
		p := pkg(t, st, "p", map[string]string{"bin/p": string(rune('a' + i))})
		pkgs = append(pkgs, p)
		env, err := Build(context.Background(), st, &Manifest{Elements: []Element{elem("p", "", p, 5)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
		g, created, err := prof.AddGeneration(st, env)
		if err != nil || !created || g.Number != i+1 {
			t.Fatalf("generation %d: %+v %v %v", i+1, g, created, err)
		}
		if err := prof.Switch(g.Number); err != nil {
			t.Fatal(err)
		}
	}
	// The same store path as the newest generation is not a new one.
	if g, created, err := prof.AddGeneration(st, envs[3]); err != nil || created || g.Number != 4 {
		t.Errorf("re-adding the newest: %+v %v %v", g, created, err)
	}
	if target, _ := os.Readlink(prof.Path); target != "profile-4-link" {
		t.Errorf("profile -> %s", target)
	}
	if prev, err := prof.Previous(); err != nil || prev != 3 {
		t.Errorf("previous %d %v", prev, err)
	}
	if err := prof.Switch(2); err != nil {
		t.Fatal(err)
	}
	if err := prof.Switch(7); err == nil || !strings.Contains(err.Error(), "version 7 does not exist") {
		t.Errorf("switch to 7: %v", err)
	}
	if err := prof.DeleteGeneration(2); err == nil {
		t.Error("deleted the current generation")
	}
	gens, err := prof.Generations()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(numbers(gens), []int{1, 2, 3, 4}) || !gens[1].Current || gens[2].StorePath != envs[2] {
		t.Fatalf("generations %+v", gens)
	}
	// Each generation is a root.
	roots, err := st.FindRoots()
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if !slices.ContainsFunc(roots, func(r local.Root) bool { return r.Target == env }) {
			t.Errorf("%s is not a root", env)
		}
	}

	// Dates 40, 30, 20 and 10 days ago; current is 2. Older than 25
	// days: 1 and 2, but the newest of those (2) is kept, and so is the
	// current one.
	now := time.Now()
	for i, g := range gens {
		setTime(t, g.Link, now.Add(-time.Duration(40-10*i)*24*time.Hour))
	}
	old, err := prof.OldGenerations(25*24*time.Hour, now)
	if err != nil || !slices.Equal(numbers(old), []int{1}) {
		t.Errorf("older than 25 days: %v %v", numbers(old), err)
	}
	old, err = prof.OldGenerations(15*24*time.Hour, now)
	if err != nil || !slices.Equal(numbers(old), []int{1}) {
		t.Errorf("older than 15 days (2 is current, 3 kept): %v %v", numbers(old), err)
	}
	if err := prof.Switch(4); err != nil {
		t.Fatal(err)
	}
	old, err = prof.OldGenerations(15*24*time.Hour, now)
	if err != nil || !slices.Equal(numbers(old), []int{1, 2}) {
		t.Errorf("older than 15 days: %v %v", numbers(old), err)
	}
	old, err = prof.OldGenerations(0, now)
	if err != nil || !slices.Equal(numbers(old), []int{1, 2, 3}) {
		t.Errorf("all old: %v %v", numbers(old), err)
	}
	for _, g := range old {
		if err := prof.DeleteGeneration(g.Number); err != nil {
			t.Fatal(err)
		}
	}
	// The collector deletes the deleted generations and their packages;
	// a fresh store has none of this one's temporary roots.
	st.Close()
	st2, err := local.Open(local.Options{StoreDir: st.Dir(), StateDir: st.StateDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := st2.GC(false, 0); err != nil {
		t.Fatal(err)
	}
	for i, env := range envs {
		ok, err := st2.IsValidPath(env)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i == 3) {
			t.Errorf("generation %d valid: %v", i+1, ok)
		}
		if ok, _ := st2.IsValidPath(pkgs[i]); ok != (i == 3) {
			t.Errorf("package of generation %d valid: %v", i+1, ok)
		}
	}
}

// TestProfileOutsideState: a profile elsewhere registers its generations
// as indirect roots.
func TestProfileOutsideState(t *testing.T) {
	st := testStore(t)
	prof, err := Open(filepath.Join(t.TempDir(), "profiles", "my"))
	if err != nil {
		t.Fatal(err)
	}
	p := pkg(t, st, "q", map[string]string{"bin/q": "q"})
	env, err := Build(context.Background(), st, &Manifest{Elements: []Element{elem("q", "", p, 5)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := prof.Lock()
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := prof.AddGeneration(st, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := prof.Switch(g.Number); err != nil {
		t.Fatal(err)
	}
	unlock()
	if g.Link != prof.Path+"-1-link" {
		t.Errorf("link %s", g.Link)
	}
	// A fresh store (no temporary roots of this one) sees the root.
	st.Close()
	st2, err := local.Open(local.Options{StoreDir: st.Dir(), StateDir: st.StateDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := st2.GC(false, 0); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{env, p} {
		if ok, _ := st2.IsValidPath(q); !ok {
			t.Errorf("%s was collected", q)
		}
	}
	os.Remove(prof.Path)
	os.Remove(g.Link)
	if _, err := st2.GC(false, 0); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st2.IsValidPath(env); ok {
		t.Errorf("%s kept after its link was removed", env)
	}
}

func TestManifestAndNames(t *testing.T) {
	for in, want := range map[string][2]string{
		"hello-2.10":       {"hello", "2.10"},
		"hello":            {"hello", ""},
		"foo-bar-1.0-rc1":  {"foo-bar", "1.0-rc1"},
		"xorg-server-21.1": {"xorg-server", "21.1"},
	} {
		if n, v := SplitName(in); n != want[0] || v != want[1] {
			t.Errorf("SplitName(%q) = %q %q", in, n, v)
		}
	}
	old := &Manifest{Elements: []Element{{Name: "a", Version: "1"}, {Name: "b", Version: ""}, {Name: "c", Version: "3"}}}
	new := &Manifest{Elements: []Element{{Name: "a", Version: "2"}, {Name: "c", Version: "3"}, {Name: "d", Version: "0.1"}}}
	var got []string
	for _, c := range Diff(old, new) {
		got = append(got, c.String())
	}
	want := []string{"a: 1 -> 2", "b: ε -> ∅", "d: ∅ -> 0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("diff %q, want %q", got, want)
	}
	if len(Diff(nil, &Manifest{})) != 0 {
		t.Error("diff of empty manifests")
	}
	m := &Manifest{}
	if m.Install(Element{Name: "x", Version: "1"}) != nil {
		t.Error("install into empty")
	}
	if old := m.Install(Element{Name: "x", Version: "2"}); old == nil || old.Version != "1" || len(m.Elements) != 1 {
		t.Errorf("upgrade: %+v %+v", old, m.Elements)
	}
	m.Install(Element{Name: "y", AttrPath: "pkgs.y"})
	if r := m.Remove("pkgs.y"); len(r) != 1 || len(m.Elements) != 1 {
		t.Errorf("remove by attribute path: %v", r)
	}
	for _, s := range []string{"30d", "0d", "1d"} {
		if _, err := ParseAge(s); err != nil {
			t.Errorf("ParseAge(%q): %v", s, err)
		}
	}
	if d, _ := ParseAge("30d"); d != 30*24*time.Hour {
		t.Errorf("30d = %v", d)
	}
	for _, s := range []string{"30", "d", "-1d", "1.5d", "3h", "+2d", ""} {
		if _, err := ParseAge(s); err == nil {
			t.Errorf("ParseAge(%q) succeeded", s)
		}
	}
	// A malformed manifest is an error, not a panic.
	dir := t.TempDir()
	for _, text := range []string{"{", `{"version": 9, "elements": []}`, `{"version": 1, "elements": [{"name": "a", "outputs": ["out"], "storePaths": []}]}`} {
		os.WriteFile(filepath.Join(dir, ManifestName), []byte(text), 0o644)
		if _, err := ReadManifest(dir); err == nil {
			t.Errorf("manifest %s accepted", text)
		}
	}
}
