package local

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// gcFixture adds, with a store that is then closed (so that its temporary
// roots are gone):
//
//	lib (a tree)  <-  app (text referring to lib)
//	junk (a tree), junkUser (text referring to junk)
func gcFixture(t *testing.T) (d testDirs, lib, app, junk, junkUser string) {
	t.Helper()
	d = newDirs(t)
	s := openDirs(t, d)
	var err error
	lib, err = s.AddPath("lib", writeTree(t, filepath.Join(t.TempDir(), "lib"), map[string]string{"lib.so": "library", "include/lib.h": "header"}), true, nil)
	must(t, err)
	app, err = s.AddText("app", "#!/bin/sh\nexec "+lib, []string{lib})
	must(t, err)
	junk, err = s.AddPath("junk", writeTree(t, filepath.Join(t.TempDir(), "junk"), map[string]string{"big": strings.Repeat("x", 100000)}), true, nil)
	must(t, err)
	junkUser, err = s.AddText("junk-user", junk, []string{junk})
	must(t, err)
	must(t, s.Close())
	return
}

func TestGCKeepsClosureOfRoots(t *testing.T) {
	d, lib, app, junk, junkUser := gcFixture(t)
	s := openDirs(t, d)
	// A direct root in gcroots.
	must(t, os.Symlink(app, filepath.Join(d.state, "gcroots", "app")))

	roots, err := s.FindRoots()
	must(t, err)
	if len(roots) != 1 || roots[0].Target != app {
		t.Errorf("roots %v", roots)
	}

	dry, err := s.GC(true, 0)
	must(t, err)
	want := []string{junkUser, junk} // referrers first
	if !slices.Equal(dry.Paths, want) {
		t.Errorf("dry run would delete %v, want %v", dry.Paths, want)
	}
	for _, p := range []string{junk, junkUser} {
		if valid, _ := s.IsValidPath(p); !valid || !exists(p) {
			t.Errorf("dry run deleted %s", p)
		}
	}

	res, err := s.GC(false, 0)
	must(t, err)
	if !slices.Equal(res.Paths, want) || res.BytesFreed < 100000 {
		t.Errorf("GC deleted %v (%d bytes), want %v", res.Paths, res.BytesFreed, want)
	}
	for _, p := range []string{lib, app} {
		if valid, _ := s.IsValidPath(p); !valid || !exists(p) {
			t.Errorf("GC deleted live path %s", p)
		}
	}
	for _, p := range want {
		if valid, _ := s.IsValidPath(p); valid || exists(p) {
			t.Errorf("GC kept dead path %s", p)
		}
	}
	problems, err := s.Verify(true)
	if err != nil || len(problems) != 0 {
		t.Errorf("verify after GC: %v %v", problems, err)
	}

	// Without the root everything goes.
	must(t, os.Remove(filepath.Join(d.state, "gcroots", "app")))
	res, err = s.GC(false, 0)
	must(t, err)
	if !slices.Equal(res.Paths, []string{app, lib}) {
		t.Errorf("GC without roots deleted %v", res.Paths)
	}
	if all, _ := s.QueryAllValidPaths(); len(all) != 0 {
		t.Errorf("left %v", all)
	}
	assertNoLeftovers(t, s)
}

func TestGCIndirectRoot(t *testing.T) {
	d, lib, app, junk, _ := gcFixture(t)
	s := openDirs(t, d)
	result := filepath.Join(t.TempDir(), "result")
	must(t, s.AddRoot(lib, result))
	if target, err := os.Readlink(result); err != nil || target != lib {
		t.Fatalf("result link: %s %v", target, err)
	}
	roots, err := s.FindRoots()
	must(t, err)
	if len(roots) != 1 || roots[0].Link != result || roots[0].Target != lib {
		t.Errorf("roots %v", roots)
	}
	res, err := s.GC(false, 0)
	must(t, err)
	if slices.Contains(res.Paths, lib) || !slices.Contains(res.Paths, app) || !slices.Contains(res.Paths, junk) {
		t.Errorf("GC with an indirect root to lib deleted %v", res.Paths)
	}
	// Removing the result link makes the root stale; it is cleaned up.
	must(t, os.Remove(result))
	res, err = s.GC(false, 0)
	must(t, err)
	if !slices.Equal(res.Paths, []string{lib}) {
		t.Errorf("GC after removing the link deleted %v", res.Paths)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.state, "gcroots", "auto")); len(entries) != 0 {
		t.Errorf("stale indirect root kept: %v", entries)
	}
}

func TestGCKeepsTempRootsOfLiveProcess(t *testing.T) {
	d, _, _, _, _ := gcFixture(t)
	cmd := helperCmd(t, d, "temproot")
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	must(t, err)
	held := strings.TrimSpace(line)

	s := openDirs(t, d)
	res, err := s.GC(false, 0)
	must(t, err)
	if slices.Contains(res.Paths, held) {
		t.Fatalf("GC deleted %s, a temporary root of a live process", held)
	}
	if len(res.Paths) != 4 {
		t.Errorf("GC deleted %v, want the 4 other paths", res.Paths)
	}
	if valid, _ := s.IsValidPath(held); !valid {
		t.Error("held path invalid")
	}
	roots, err := s.FindRoots()
	must(t, err)
	if len(roots) != 1 || !strings.HasPrefix(roots[0].Link, "{temp:") || roots[0].Target != held {
		t.Errorf("roots %v", roots)
	}

	stdin.Close()
	must(t, cmd.Wait())
	res, err = s.GC(false, 0)
	must(t, err)
	if !slices.Equal(res.Paths, []string{held}) {
		t.Errorf("after the process exited GC deleted %v", res.Paths)
	}
}

func TestGCTempRootOfKilledProcess(t *testing.T) {
	d, _, _, _, _ := gcFixture(t)
	cmd := helperCmd(t, d, "temproot")
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	cmd.StdinPipe()
	must(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	must(t, err)
	held := strings.TrimSpace(line)
	must(t, cmd.Process.Kill())
	cmd.Wait()
	s := openDirs(t, d)
	res, err := s.GC(false, 0)
	must(t, err)
	if !slices.Contains(res.Paths, held) {
		t.Errorf("the root of a killed process kept %s", held)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.state, "temproots")); len(entries) != 0 {
		t.Errorf("temproots of dead processes kept: %v", entries)
	}
}

func TestGCOwnTempRoots(t *testing.T) {
	s, _ := newStore(t)
	p, err := s.AddText("mine", "mine", nil)
	must(t, err)
	res, err := s.GC(false, 0)
	must(t, err)
	if len(res.Paths) != 0 {
		t.Errorf("GC deleted this process's temporary roots: %v", res.Paths)
	}
	if valid, _ := s.IsValidPath(p); !valid {
		t.Error("path gone")
	}
}

func TestGCMaxFreed(t *testing.T) {
	d, _, _, _, _ := gcFixture(t)
	s := openDirs(t, d)
	res, err := s.GC(false, 1)
	must(t, err)
	if len(res.Paths) != 1 {
		t.Errorf("GC with max-freed 1 deleted %v", res.Paths)
	}
	problems, err := s.Verify(true)
	if err != nil || len(problems) != 0 {
		t.Errorf("verify after partial GC: %v %v", problems, err)
	}
}

func TestGCRemovesUnregisteredEntries(t *testing.T) {
	s, d := newStore(t)
	sp, err := store.NewStorePath("00000000000000000000000000000000", "orphan")
	must(t, err)
	orphan := store.Dir(d.store).Path(sp)
	writeTree(t, orphan, map[string]string{"f": "x"})
	must(t, os.WriteFile(filepath.Join(d.store, "not-a-store-path"), nil, 0o644))
	res, err := s.GC(false, 0)
	must(t, err)
	if !slices.Equal(res.Paths, []string{orphan}) || exists(orphan) {
		t.Errorf("GC deleted %v", res.Paths)
	}
	if !exists(filepath.Join(d.store, "not-a-store-path")) || !exists(filepath.Join(d.store, markerName)) {
		t.Error("GC deleted something that is not a store path")
	}
}

func TestGCReferenceCycle(t *testing.T) {
	s, _ := newStore(t)
	// Two outputs referring to each other, as multi-output builds may.
	var infos []*PathInfo
	var paths []string
	for _, name := range []string{"cyc-out", "cyc-dev"} {
		sp, err := s.StoreDir().MakeStorePath("output:out", nixhash.SumString(nixhash.SHA256, name), name)
		must(t, err)
		paths = append(paths, s.StoreDir().Path(sp))
	}
	unlock, err := s.LockPaths(paths)
	must(t, err)
	for i, p := range paths {
		writeTree(t, p, map[string]string{"ref": paths[1-i]})
		must(t, Canonicalise(p))
		h, size, err := store.HashPath(nixhash.SHA256, p, nil)
		must(t, err)
		infos = append(infos, &PathInfo{Path: p, NarHash: h, NarSize: size, References: []string{paths[1-i], p}, Ultimate: true})
	}
	must(t, s.RegisterValidPaths(infos))
	unlock()
	refs, err := s.QueryReferences(paths[0])
	must(t, err)
	if len(refs) != 2 {
		t.Errorf("references %v", refs)
	}
	if _, err := s.DeletePaths(paths[:1]); !errors.As(err, new(*StillAliveError)) {
		t.Errorf("deleting one path of a cycle: %v", err)
	}
	res, err := s.GC(false, 0)
	must(t, err)
	if len(res.Paths) != 2 {
		t.Errorf("GC deleted %v", res.Paths)
	}
}

func TestDeletePaths(t *testing.T) {
	d, lib, app, junk, junkUser := gcFixture(t)
	s := openDirs(t, d)
	must(t, os.Symlink(app, filepath.Join(d.state, "gcroots", "app")))
	for _, p := range []string{app, lib, junk} {
		if _, err := s.DeletePaths([]string{p}); !errors.As(err, new(*StillAliveError)) {
			t.Errorf("deleting %s: %v", p, err)
		}
	}
	res, err := s.DeletePaths([]string{junk, junkUser})
	must(t, err)
	if !slices.Equal(res.Paths, []string{junkUser, junk}) {
		t.Errorf("deleted %v", res.Paths)
	}
	if _, err := s.DeletePaths([]string{junk}); !errors.As(err, new(*InvalidPathError)) {
		t.Errorf("deleting a deleted path: %v", err)
	}
	if all, _ := s.QueryAllValidPaths(); len(all) != 2 {
		t.Errorf("valid paths %v", all)
	}
}

func TestVerifyDetectsCorruption(t *testing.T) {
	s, _ := newStore(t)
	p, err := s.AddPath("src", writeTree(t, filepath.Join(t.TempDir(), "src"), map[string]string{"a": "original", "b": "other"}), true, nil)
	must(t, err)
	other, err := s.AddText("other", "fine", nil)
	must(t, err)
	problems, err := s.Verify(true)
	must(t, err)
	if len(problems) != 0 {
		t.Fatalf("fresh store: %v", problems)
	}
	file := filepath.Join(p, "a")
	must(t, os.Chmod(file, 0o644))
	must(t, os.WriteFile(file, []byte("tampered"), 0o644))
	// Without --check-contents only existence is checked.
	problems, err = s.Verify(false)
	must(t, err)
	if len(problems) != 0 {
		t.Errorf("existence check: %v", problems)
	}
	problems, err = s.Verify(true)
	must(t, err)
	if len(problems) != 1 || problems[0].Path != p || problems[0].Kind != "modified" ||
		!strings.Contains(problems[0].String(), "was modified! expected hash '") {
		t.Errorf("problems %v", problems)
	}
	// A path that disappeared.
	makeWritable(other)
	must(t, os.Chmod(filepath.Dir(other), 0o755))
	must(t, os.Remove(other))
	problems, err = s.Verify(false)
	must(t, err)
	if len(problems) != 1 || problems[0].Path != other || problems[0].Kind != "missing" {
		t.Errorf("problems %v", problems)
	}
}

func TestForeignStoresAreRefused(t *testing.T) {
	base := t.TempDir()
	// A Nix installation: <prefix>/store next to <prefix>/var/nix/db.
	nixStore := filepath.Join(base, "nix", "store")
	must(t, os.MkdirAll(nixStore, 0o755))
	must(t, os.MkdirAll(filepath.Join(base, "nix", "var", "nix", "db"), 0o755))
	_, err := Open(Options{StoreDir: nixStore, StateDir: filepath.Join(base, "state1")})
	if !errors.As(err, new(*ForeignStoreError)) || !strings.Contains(err.Error(), "Nix installation") {
		t.Errorf("Nix store: %v", err)
	}
	// A non-empty directory that is not a nixl store.
	other := filepath.Join(base, "other")
	must(t, os.MkdirAll(other, 0o755))
	must(t, os.WriteFile(filepath.Join(other, "file"), nil, 0o644))
	if _, err := Open(Options{StoreDir: other, StateDir: filepath.Join(base, "state2")}); !errors.As(err, new(*ForeignStoreError)) {
		t.Errorf("non-empty directory: %v", err)
	}
	// A store belonging to another state directory.
	d := newDirs(t)
	s := openDirs(t, d)
	must(t, s.Close())
	if _, err := Open(Options{StoreDir: d.store, StateDir: filepath.Join(base, "state3")}); !errors.As(err, new(*ForeignStoreError)) {
		t.Errorf("store of another state directory: %v", err)
	}
	// A database that nixl did not create.
	d2 := newDirs(t)
	must(t, os.MkdirAll(filepath.Join(d2.state, "db"), 0o755))
	foreign := filepath.Join(d2.state, "db", dbFileName)
	must(t, os.WriteFile(foreign, nil, 0o644))
	fdb, err := sql.Open("sqlite", foreign)
	must(t, err)
	_, err = fdb.Exec("create table ValidPaths (id integer)")
	must(t, err)
	fdb.Close()
	if _, err := Open(Options{StoreDir: d2.store, StateDir: d2.state}); !errors.As(err, new(*ForeignStoreError)) {
		t.Errorf("foreign database: %v", err)
	}
	// Relative directories.
	if _, err := Open(Options{StoreDir: "relative/store", StateDir: filepath.Join(base, "state4")}); err == nil {
		t.Error("relative store directory accepted")
	}
}

func TestReopenKeepsData(t *testing.T) {
	d := newDirs(t)
	s := openDirs(t, d)
	p, err := s.AddText("persistent", "data", nil)
	must(t, err)
	must(t, s.Close())
	s = openDirs(t, d)
	if valid, err := s.IsValidPath(p); err != nil || !valid {
		t.Errorf("after reopening: %v %v", valid, err)
	}
	if got, err := s.ToStorePath(p + "/sub/file"); err != nil || got != p {
		t.Errorf("ToStorePath: %s %v", got, err)
	}
	if _, err := s.ToStorePath("/elsewhere"); !errors.As(err, new(*NotInStoreError)) {
		t.Errorf("ToStorePath outside: %v", err)
	}
}

// Adding while collecting garbage, in one process: every added path is a
// temporary root, so none may be lost, and the store stays consistent.
func TestGCConcurrentWithAdds(t *testing.T) {
	s, _ := newStore(t)
	src := t.TempDir()
	var wg sync.WaitGroup
	paths := make([]string, 40)
	stop := make(chan struct{})
	gcDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				gcDone <- nil
				return
			default:
			}
			if _, err := s.GC(false, 0); err != nil {
				gcDone <- err
				return
			}
		}
	}()
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := writeTree(t, filepath.Join(src, fmt.Sprint(i)), map[string]string{"f": fmt.Sprint(i)})
			p, err := s.AddPath("p", dir, true, nil)
			if err != nil {
				t.Error(err)
				return
			}
			q, err := s.AddText("t", p, []string{p})
			if err != nil {
				t.Error(err)
				return
			}
			paths[i] = q
		}()
	}
	wg.Wait()
	close(stop)
	must(t, <-gcDone)
	if _, err := s.GC(false, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if valid, _ := s.IsValidPath(p); !valid || !exists(p) {
			t.Errorf("%s was collected while it was a temporary root", p)
		}
	}
	problems, err := s.Verify(true)
	if err != nil || len(problems) != 0 {
		t.Errorf("verify: %v %v", problems, err)
	}
}

// A filter that adds a path itself (builtins.path filters are Nix code)
// must not deadlock against a collector waiting for the lock.
func TestNestedAddWhileGCWaits(t *testing.T) {
	s, _ := newStore(t)
	src := writeTree(t, filepath.Join(t.TempDir(), "src"), map[string]string{"a": "a", "b": "b"})
	gcStarted := make(chan struct{})
	gcFinished := make(chan struct{})
	defer func() { <-gcFinished }()
	done := make(chan error, 1)
	go func() {
		_, err := s.AddPath("outer", src, true, func(path, kind string) (bool, error) {
			if strings.HasSuffix(path, "/a") {
				go func() {
					defer close(gcFinished)
					close(gcStarted)
					s.GC(false, 0)
				}()
				<-gcStarted
				time.Sleep(50 * time.Millisecond) // let the collector wait
				if _, err := s.AddText("inner", "from a filter", nil); err != nil {
					return false, err
				}
			}
			return true, nil
		})
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("deadlock: a nested add did not finish while a collector waited")
	}
}
