package local

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// Store paths C++ Nix 2.8 gives in /nix/store: nix-store --add of the
// golden tree (named "src"), nix-store --add-fixed sha256 of a file "x"
// holding "flat contents\n", and builtins.toFile "greeting" "hello".
const (
	goldenTreeNixPath = "/nix/store/ayfajiqgzq21gjs0hw3ilx5pjzs5kprj-src"
	goldenFlatNixPath = "/nix/store/qrq8pq1wh9r72y1jagczp24z34f59r1b-x"
	goldenTextNixPath = "/nix/store/5akl8zsmda0yrr63v4khwgskih2g2hsh-greeting"
)

func TestGoldenTreeNARHash(t *testing.T) {
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), goldenTree)
	h, size, err := store.HashPath(nixhash.SHA256, src, nil)
	must(t, err)
	if h.String() != goldenTreeNARHash || size != goldenTreeNARSize {
		t.Errorf("NAR hash %s size %d, golden %s %d", h, size, goldenTreeNARHash, goldenTreeNARSize)
	}
	// The formula AddPath uses gives Nix's path for Nix's store directory.
	p, err := store.DefaultDir.MakeSourcePath("src", h, nil, false)
	must(t, err)
	if got := store.DefaultDir.Path(p); got != goldenTreeNixPath {
		t.Errorf("source path %s, Nix gives %s", got, goldenTreeNixPath)
	}
	if _, err := exec.LookPath("nix-hash"); err == nil {
		if got := "sha256:" + runNix(t, "nix-hash", "--type", "sha256", "--base32", src); got != h.String() {
			t.Errorf("nix-hash says %s, we computed %s", got, h)
		}
	}
}

func TestAddPathMatchesNix(t *testing.T) {
	s, d := newStore(t)
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), goldenTree)
	p, added, err := s.addPath("src", src, true, nil)
	must(t, err)
	if !added {
		t.Error("first add reported the path as existing")
	}
	h, _ := nixhash.ParsePrefixed(goldenTreeNARHash)
	want, err := s.StoreDir().MakeSourcePath("src", h, nil, false)
	must(t, err)
	if p != s.StoreDir().Path(want) {
		t.Errorf("AddPath gave %s, want %s", p, s.StoreDir().Path(want))
	}
	info, err := s.QueryPathInfo(p)
	must(t, err)
	if info.NarHash.String() != goldenTreeNARHash || info.NarSize != goldenTreeNARSize {
		t.Errorf("registered %s %d", info.NarHash, info.NarSize)
	}
	if info.CA != "fixed:r:"+goldenTreeNARHash || len(info.References) != 0 || info.Deriver != "" {
		t.Errorf("registered info %+v", info)
	}
	// The stored tree has the same NAR as the source.
	var a, b bytes.Buffer
	_, err = store.DumpPath(&a, src, nil)
	must(t, err)
	_, err = store.DumpPath(&b, p, nil)
	must(t, err)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the stored tree's NAR differs from the source's")
	}
	checkCanonical(t, p)

	// C++ Nix adding the same tree to a store with the same directory.
	if _, err := exec.LookPath("nix-store"); err == nil {
		if got := runNix(t, "nix-store", "--store", nixStoreArg(t, d.store), "--add", src); got != p {
			t.Errorf("nix-store --add gives %s, we gave %s", got, p)
		}
	}
}

// checkCanonical checks the metadata of a store tree.
func checkCanonical(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		must(t, err)
		info, err := os.Lstat(p)
		must(t, err)
		if info.ModTime().Unix() != 1 {
			t.Errorf("%s: mtime %v", p, info.ModTime())
		}
		mode := info.Mode()
		switch {
		case mode.IsDir():
			if mode.Perm() != 0o555 || mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
				t.Errorf("%s: directory mode %v", p, mode)
			}
		case mode.IsRegular():
			if perm := mode.Perm(); perm != 0o444 && perm != 0o555 || mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
				t.Errorf("%s: file mode %v", p, mode)
			}
		}
		return nil
	})
}

func TestAddPathTwiceIsNoOp(t *testing.T) {
	s, _ := newStore(t)
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), map[string]string{"a": "a"})
	p1, added1, err := s.addPath("src", src, true, nil)
	must(t, err)
	info1, err := s.QueryPathInfo(p1)
	must(t, err)
	p2, added2, err := s.addPath("src", src, true, nil)
	must(t, err)
	info2, err := s.QueryPathInfo(p2)
	must(t, err)
	if p1 != p2 || !added1 || added2 || !info1.RegistrationTime.Equal(info2.RegistrationTime) {
		t.Errorf("second add: %s %v %v (first %s %v)", p2, added2, info2.RegistrationTime, p1, added1)
	}
	assertNoLeftovers(t, s)
}

// assertNoLeftovers checks that no temporary trees or lock files remain.
func assertNoLeftovers(t *testing.T, s *Store) {
	t.Helper()
	for _, dir := range []string{filepath.Join(s.Dir(), tmpDirName), filepath.Join(s.StateDir(), locksDirName)} {
		entries, err := os.ReadDir(dir)
		must(t, err)
		if len(entries) != 0 {
			t.Errorf("%s holds %d leftover entries (%s…)", dir, len(entries), entries[0].Name())
		}
	}
}

func TestAddPathFilter(t *testing.T) {
	s, _ := newStore(t)
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), map[string]string{
		"keep.txt": "keep", "drop.txt": "drop", "sub/keep": "k", "sub/drop.txt": "d", "link": "->keep.txt",
	})
	kinds := map[string]string{}
	var mu sync.Mutex
	filter := func(path, kind string) (bool, error) {
		mu.Lock()
		kinds[strings.TrimPrefix(path, src)] = kind
		mu.Unlock()
		return !strings.HasSuffix(path, "drop.txt"), nil
	}
	p, err := s.AddPath("filtered", src, true, filter)
	must(t, err)
	want := map[string]string{"/keep.txt": "regular", "/drop.txt": "regular", "/sub": "directory", "/sub/keep": "regular", "/sub/drop.txt": "regular", "/link": "symlink"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("filter saw %v, want %v", kinds, want)
	}
	// The compute-only way: hash the source with the same filter.
	h, _, err := store.HashPath(nixhash.SHA256, src, func(path string) bool { return !strings.HasSuffix(path, "drop.txt") })
	must(t, err)
	sp, err := s.StoreDir().MakeSourcePath("filtered", h, nil, false)
	must(t, err)
	if p != s.StoreDir().Path(sp) {
		t.Errorf("filtered add gave %s, computed %s", p, s.StoreDir().Path(sp))
	}
	if exists(filepath.Join(p, "drop.txt")) || exists(filepath.Join(p, "sub", "drop.txt")) || !exists(filepath.Join(p, "sub", "keep")) {
		t.Error("the filter was not applied to the stored tree")
	}

	// A failing filter fails the addition and leaves nothing behind.
	boom := errors.New("filter failed")
	_, err = s.AddPath("failing", src, true, func(path, kind string) (bool, error) {
		if strings.HasSuffix(path, "sub") {
			return false, boom
		}
		return true, nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("failing filter: %v", err)
	}
	assertNoLeftovers(t, s)
}

func TestAddPathFlat(t *testing.T) {
	s, d := newStore(t)
	dir := writeTree(t, filepath.Join(t.TempDir(), "f"), map[string]string{"x*": "flat contents\n"})
	p, err := s.AddPath("x", filepath.Join(dir, "x"), false, nil)
	must(t, err)
	h := nixhash.SumString(nixhash.SHA256, "flat contents\n")
	sp, err := store.DefaultDir.MakeFixedOutputPath("x", store.FlatMethod, h, nil, false)
	must(t, err)
	if store.DefaultDir.Path(sp) != goldenFlatNixPath {
		t.Errorf("flat path in /nix/store %s, Nix gives %s", store.DefaultDir.Path(sp), goldenFlatNixPath)
	}
	if want, err := s.StoreDir().MakeFixedOutputPath("x", store.FlatMethod, h, nil, false); err != nil || p != s.StoreDir().Path(want) {
		t.Errorf("flat add gave %s, computed %s (%v)", p, s.StoreDir().Path(want), err)
	}
	info, err := s.QueryPathInfo(p)
	must(t, err)
	if info.CA != "fixed:"+h.String() || info.NarHash != store.HashNARBytes(nixhash.SHA256, []byte("flat contents\n")) {
		t.Errorf("flat info %+v", info)
	}
	if st, err := os.Lstat(p); err != nil || st.Mode().Perm() != 0o444 {
		t.Errorf("flat file mode: %v %v", st.Mode(), err)
	}
	if _, err := s.AddPath("d", dir, false, nil); err == nil {
		t.Error("adding a directory flat succeeded")
	}
	if _, err := exec.LookPath("nix-store"); err == nil {
		if got := runNix(t, "nix-store", "--store", nixStoreArg(t, d.store), "--add-fixed", "sha256", filepath.Join(dir, "x")); got != p {
			t.Errorf("nix-store --add-fixed gives %s, we gave %s", got, p)
		}
	}
}

func TestAddTextAndReferences(t *testing.T) {
	s, d := newStore(t)
	greeting, err := s.AddText("greeting", "hello", nil)
	must(t, err)
	sp, err := store.DefaultDir.ComputeTextPath("greeting", []byte("hello"), nil)
	must(t, err)
	if store.DefaultDir.Path(sp) != goldenTextNixPath {
		t.Errorf("text path in /nix/store %s, Nix gives %s", store.DefaultDir.Path(sp), goldenTextNixPath)
	}
	if _, err := exec.LookPath("nix-instantiate"); err == nil {
		got := runNix(t, "nix-instantiate", "--store", nixStoreArg(t, d.store), "--eval", "-E", `builtins.toFile "greeting" "hello"`)
		if got != `"`+greeting+`"` {
			t.Errorf("builtins.toFile in Nix gives %s, we gave %s", got, greeting)
		}
	}
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), map[string]string{"a": "a"})
	tree, err := s.AddPath("tree", src, true, nil)
	must(t, err)
	user, err := s.AddText("user", "uses "+greeting+" and "+tree, []string{tree, greeting, tree})
	must(t, err)
	refPaths := []store.StorePath{}
	for _, r := range []string{greeting, tree} {
		p, err := s.StoreDir().ParsePath(r)
		must(t, err)
		refPaths = append(refPaths, p)
	}
	want, err := s.StoreDir().ComputeTextPath("user", []byte("uses "+greeting+" and "+tree), refPaths)
	must(t, err)
	if user != s.StoreDir().Path(want) {
		t.Errorf("AddText gave %s, computed %s", user, s.StoreDir().Path(want))
	}
	refs, err := s.QueryReferences(user)
	must(t, err)
	wantRefs := []string{greeting, tree}
	slices.Sort(wantRefs)
	if !slices.Equal(refs, wantRefs) {
		t.Errorf("references %v, want %v", refs, wantRefs)
	}
	for _, r := range wantRefs {
		referrers, err := s.QueryReferrers(r)
		must(t, err)
		if !slices.Equal(referrers, []string{user}) {
			t.Errorf("referrers of %s: %v", r, referrers)
		}
	}
	closure, err := s.Closure([]string{user})
	must(t, err)
	if len(closure) != 3 {
		t.Errorf("closure %v", closure)
	}
	info, err := s.QueryPathInfo(user)
	must(t, err)
	if info.CA != "text:"+nixhash.SumString(nixhash.SHA256, "uses "+greeting+" and "+tree).String() {
		t.Errorf("text CA %q", info.CA)
	}
	if got, _ := os.ReadFile(user); string(got) != "uses "+greeting+" and "+tree {
		t.Errorf("contents %q", got)
	}

	// References must be valid store paths of this store.
	missingSP, err := store.NewStorePath("00000000000000000000000000000000", "missing")
	must(t, err)
	missing := s.StoreDir().Path(missingSP)
	if _, err := s.AddText("bad", "x", []string{missing}); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("reference to an invalid path: %v", err)
	}
	if _, err := s.AddText("bad", "x", []string{"/elsewhere/00000000000000000000000000000000-x"}); err == nil {
		t.Error("reference outside the store accepted")
	}
	if _, err := s.QueryPathInfo(missing); !errors.As(err, new(*InvalidPathError)) {
		t.Errorf("QueryPathInfo of an invalid path: %v", err)
	}
	assertNoLeftovers(t, s)
}

func TestAddDerivation(t *testing.T) {
	s, _ := newStore(t)
	builder, err := s.AddText("builder.sh", "echo hi > $out", nil)
	must(t, err)
	drv := &derivation.Derivation{
		Name:      "hello",
		InputDrvs: map[string][]string{},
		InputSrcs: []string{builder},
		Platform:  "x86_64-linux",
		Builder:   "/bin/sh",
		Args:      []string{builder},
		Env:       map[string]string{"name": "hello", "builder": "/bin/sh", "system": "x86_64-linux"},
	}
	must(t, derivation.NewHasher(s.StoreDir(), derivation.FileLoader(s.StoreDir())).SetInputAddressedOutputs(drv, []string{"out", "dev"}))
	p, err := s.AddDerivation(drv)
	must(t, err)
	want, err := drv.ComputePath(s.StoreDir())
	must(t, err)
	if p != want {
		t.Errorf("AddDerivation gave %s, ComputePath %s", p, want)
	}
	outs, err := s.QueryDerivationOutputs(p)
	must(t, err)
	if len(outs) != 2 || outs["out"] != drv.Outputs["out"].Path || outs["dev"] != drv.Outputs["dev"].Path {
		t.Errorf("derivation outputs %v", outs)
	}
	derivers, err := s.QueryValidDerivers(drv.Outputs["out"].Path)
	must(t, err)
	if !slices.Equal(derivers, []string{p}) {
		t.Errorf("derivers %v", derivers)
	}
	refs, err := s.QueryReferences(p)
	must(t, err)
	if !slices.Equal(refs, []string{builder}) {
		t.Errorf("drv references %v", refs)
	}
	read, err := s.ReadDerivation(p)
	must(t, err)
	if !bytes.Equal(read.ATerm(), drv.ATerm()) {
		t.Error("ReadDerivation does not give back the derivation")
	}
	// A .drv must parse.
	if _, err := s.AddText("broken.drv", "Derive(", nil); err == nil {
		t.Error("an invalid .drv was added")
	}
	assertNoLeftovers(t, s)
}

func TestConcurrentAddsInOneProcess(t *testing.T) {
	s, _ := newStore(t)
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), goldenTree)
	var wg sync.WaitGroup
	paths := make([]string, 8)
	addedCount := 0
	var mu sync.Mutex
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, added, err := s.addPath("src", src, true, nil)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			paths[i] = p
			if added {
				addedCount++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if addedCount != 1 || len(slices.Compact(slices.Clone(paths))) != 1 {
		t.Errorf("added %d times, paths %v", addedCount, paths)
	}
	assertNoLeftovers(t, s)
}

func TestConcurrentAddsInTwoProcesses(t *testing.T) {
	d := newDirs(t)
	s := openDirs(t, d) // create the store first
	must(t, s.Close())
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), goldenTree)
	var outs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i] = helperCmd(t, d, "add", "NIXL_HELPER_SRC="+src, "NIXL_HELPER_SLOW=1")
		cmds[i].Stdout = &outs[i]
		must(t, cmds[i].Start())
	}
	for _, c := range cmds {
		must(t, c.Wait())
	}
	var added, existed int
	var paths []string
	for _, o := range outs {
		verb, p, _ := strings.Cut(strings.TrimSpace(o.String()), " ")
		paths = append(paths, p)
		switch verb {
		case "added":
			added++
		case "exists":
			existed++
		}
	}
	if added != 1 || existed != 1 || paths[0] != paths[1] {
		t.Fatalf("outputs %q %q: want one 'added' and one 'exists' of the same path", outs[0].String(), outs[1].String())
	}
	s = openDirs(t, d)
	if all, err := s.QueryAllValidPaths(); err != nil || !slices.Equal(all, paths[:1]) {
		t.Errorf("valid paths %v %v", all, err)
	}
	problems, err := s.Verify(true)
	if err != nil || len(problems) != 0 {
		t.Errorf("verify: %v %v", problems, err)
	}
	assertNoLeftovers(t, s)
}

func TestKilledMidAdd(t *testing.T) {
	for _, stage := range []string{"copied", "renamed"} {
		t.Run(stage, func(t *testing.T) {
			d := newDirs(t)
			s := openDirs(t, d)
			must(t, s.Close())
			src := writeTree(t, filepath.Join(t.TempDir(), "src"), goldenTree)
			ready := filepath.Join(t.TempDir(), "ready")
			cmd := helperCmd(t, d, "add", "NIXL_HELPER_SRC="+src, "NIXL_HELPER_PAUSE="+stage, "NIXL_HELPER_READY="+ready)
			must(t, cmd.Start())
			waitForFile(t, ready)
			// The helper is hanging mid-add: its leftovers are there.
			h, _ := nixhash.ParsePrefixed(goldenTreeNARHash)
			sp, err := store.Dir(d.store).MakeSourcePath("src", h, nil, false)
			must(t, err)
			final := store.Dir(d.store).Path(sp)
			if stage == "renamed" && !exists(final) {
				t.Fatal("the helper did not rename its tree into place")
			}
			// An Open while the adder lives must not disturb it.
			s2 := openDirs(t, d)
			if stage == "renamed" && !exists(final) {
				t.Error("Open removed the tree of a live adder")
			}
			must(t, s2.Close())

			must(t, cmd.Process.Kill())
			cmd.Wait()

			s = openDirs(t, d)
			if valid, err := s.IsValidPath(final); err != nil || valid {
				t.Errorf("after the kill the path is valid=%v (%v)", valid, err)
			}
			if exists(final) {
				t.Error("the unregistered path was not cleaned up")
			}
			assertNoLeftovers(t, s)
			p, added, err := s.addPath("src", src, true, nil)
			must(t, err)
			if p != final || !added {
				t.Errorf("re-add: %s %v", p, added)
			}
			problems, err := s.Verify(true)
			if err != nil || len(problems) != 0 {
				t.Errorf("verify after re-add: %v %v", problems, err)
			}
		})
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if exists(path) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}

func TestConcurrentFirstOpens(t *testing.T) {
	d := newDirs(t)
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(Options{StoreDir: d.store, StateDir: d.state})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if _, err := s.AddText("same", "same text", nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s := openDirs(t, d)
	if all, err := s.QueryAllValidPaths(); err != nil || len(all) != 1 {
		t.Errorf("valid paths %v %v", all, err)
	}
}
