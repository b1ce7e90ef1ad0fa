package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/sandbox"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// Store faults: a full disk, stale locks of killed processes, builds
// killed at any moment, corrupted paths repaired.

func init() {
	// The helper process of TestStaleLocksOfKilledProcess.
	if os.Getenv("NIXL_TEST_LOCK_HOLDER") == "1" {
		os.Exit(holdLocks())
	}
}

// sandboxArgs returns the flags that make a build work here: none when
// sandboxes can be created, else --sandbox off (said in the log).
func sandboxArgs(t *testing.T) []string {
	t.Helper()
	if err := sandbox.Check(); err != nil {
		t.Logf("building without the sandbox: %v", err)
		return []string{"--sandbox", "off"}
	}
	return nil
}

// runCmd runs cmd and returns its exit code and outputs; it fails the
// test on a Go panic.
func runCmd(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	for _, bad := range []string{"panic:", "goroutine ", "internal error"} {
		if strings.Contains(stdout.String()+stderr.String(), bad) {
			t.Fatalf("%v printed %q:\n%s%s", cmd.Args, bad, stdout.String(), stderr.String())
		}
	}
	return code, stdout.String(), stderr.String()
}

// storeEntries lists a store directory, its temporary directory and the
// lock files of its state directory.
func storeEntries(t *testing.T, b buildEnv) (paths, tmp, locks []string) {
	t.Helper()
	list := func(dir string) []string {
		entries, _ := os.ReadDir(dir)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	for _, name := range list(b.store) {
		if name != ".nixl-store" && name != ".nixl-tmp" {
			paths = append(paths, name)
		}
	}
	return paths, list(filepath.Join(b.store, ".nixl-tmp")), list(filepath.Join(b.state, "locks"))
}

// registeredPaths opens the store and lists its valid paths.
func registeredPaths(t *testing.T, b buildEnv) []string {
	t.Helper()
	s, err := local.Open(local.Options{StoreDir: b.store, StateDir: b.state})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	paths, err := s.QueryAllValidPaths()
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// fullDisk is a store whose file system fills up: a small tmpfs (when
// this process may mount one) or a file size limit (RLIMIT_FSIZE, which
// any user can set: writes past it fail with EFBIG, "file too large").
type fullDisk struct {
	b buildEnv
	// command returns a nixl subprocess under the limit.
	command func(args ...string) *exec.Cmd
	// fill fills the file system completely and returns the undo; nil
	// for the file size limit.
	fill func() func()
	// message matches the system error the limit causes.
	message string
}

func tmpfsDisk(t *testing.T) (*fullDisk, string) {
	if os.Getuid() != 0 {
		return nil, "not root, so no tmpfs can be mounted"
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
		return nil, fmt.Sprintf("mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	b := newBuildEnv(t)
	b.store = filepath.Join(mnt, "store") // the state directory stays on the disk
	fd := &fullDisk{b: b, message: "no space left on device"}
	fd.command = func(args ...string) *exec.Cmd { return b.command(t, args...) }
	fd.fill = func() func() {
		filler := filepath.Join(mnt, "filler")
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
		f.Close()
		return func() { os.Remove(filler) }
	}
	return fd, ""
}

func fsizeDisk(t *testing.T) *fullDisk {
	b := newBuildEnv(t)
	fd := &fullDisk{b: b, message: "file too large"}
	fd.command = func(args ...string) *exec.Cmd {
		cmd := b.command(t, args...)
		// 1024 blocks of the shell's ulimit: 512 KiB (dash) or 1 MiB
		// (bash), room for the database but not for the big files.
		cmd.Args = append([]string{"/bin/sh", "-c", `ulimit -f 1024 && exec "$0" "$@"`}, cmd.Args...)
		cmd.Path = "/bin/sh"
		return cmd
	}
	return fd
}

// TestFullDisk fills the store's file system while adding paths, writing
// .drv files and building: each fails with one clear message and exit
// code 1, nothing becomes valid, no partial path or temporary directory
// is left, and the store works again once there is room.
func TestFullDisk(t *testing.T) {
	t.Run("tmpfs", func(t *testing.T) {
		fd, why := tmpfsDisk(t)
		if fd == nil {
			t.Skipf("SKIPPED (not counted as a pass): %s; the file-size-limit variant covers the same paths", why)
		}
		testFullDisk(t, fd)
	})
	t.Run("file-size-limit", func(t *testing.T) { testFullDisk(t, fsizeDisk(t)) })
}

func testFullDisk(t *testing.T, fd *fullDisk) {
	b := fd.b
	// Create the store with room to spare.
	if code, _, errOut := runCmd(t, b.command(t, "store", "verify")); code != 0 {
		t.Fatalf("creating the store: %s", errOut)
	}
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>10)
	}
	srcDir := filepath.Join(b.dir, "bigdir")
	os.MkdirAll(srcDir, 0o755)
	os.WriteFile(filepath.Join(srcDir, "big"), big, 0o644)
	os.WriteFile(filepath.Join(srcDir, "small"), []byte("small\n"), 0o644)
	bigFile := filepath.Join(b.dir, "big.bin")
	os.WriteFile(bigFile, big, 0o644)
	expectClean := func(t *testing.T, what string, allowed ...string) {
		t.Helper()
		paths, tmp, locks := storeEntries(t, b)
		for _, p := range paths {
			ok := false
			for _, a := range allowed {
				ok = ok || strings.HasSuffix(p, a)
			}
			if !ok {
				t.Errorf("%s left %s in the store", what, p)
			}
		}
		if len(tmp) > 0 || len(locks) > 0 {
			t.Errorf("%s left temporary directories %v and lock files %v", what, tmp, locks)
		}
		for _, p := range registeredPaths(t, b) {
			ok := false
			for _, a := range allowed {
				ok = ok || strings.HasSuffix(p, a)
			}
			if !ok {
				t.Errorf("%s registered %s", what, p)
			}
		}
	}
	failsClearly := func(t *testing.T, cmd *exec.Cmd, want string) string {
		t.Helper()
		code, _, errOut := runCmd(t, cmd)
		if code != 1 {
			t.Fatalf("%v: exit code %d, want 1:\n%s", cmd.Args, code, errOut)
		}
		if !regexp.MustCompile(want).MatchString(errOut) {
			t.Errorf("%v: stderr does not match %s:\n%s", cmd.Args, want, errOut)
		}
		if n := len(errorLine.FindAllString(errOut, -1)); n != 1 {
			t.Errorf("%v: %d 'error:' lines, want 1:\n%s", cmd.Args, n, errOut)
		}
		return errOut
	}
	storeMsg := "cannot write to the store '" + regexp.QuoteMeta(b.store) + "': " + fd.message

	t.Run("store-add", func(t *testing.T) {
		failsClearly(t, fd.command("store", "add", srcDir), `^error: cannot add '/.*/bigdir': `+storeMsg+`\n$`)
		expectClean(t, "store add")
		failsClearly(t, fd.command("store", "add", "--flat", bigFile), `^error: cannot add '/.*/big\.bin': `+storeMsg+`\n$`)
		expectClean(t, "store add --flat")
	})
	if fd.fill != nil {
		t.Run("instantiate", func(t *testing.T) {
			file := filepath.Join(b.dir, "small.nix")
			os.WriteFile(file, []byte(`derivation { name = "small"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo small > $out" ]; }`), 0o644)
			undo := fd.fill()
			failsClearly(t, fd.command("instantiate", file), `(?s)^error:.*\n\s+error: `+storeMsg+`\n$`)
			undo()
			expectClean(t, "instantiate")
		})
	}
	t.Run("build", func(t *testing.T) {
		file := filepath.Join(b.dir, "big.nix")
		os.WriteFile(file, []byte(`derivation {
  name = "big";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "set -e; echo start; i=0; while [ $i -lt 40000 ]; do echo 0123456789012345678901234567890123456789012345678901234567890123456789 >> $out; i=$((i+1)); done" ];
}`), 0o644)
		args := append([]string{"build", file, "--no-link"}, sandboxArgs(t)...)
		errOut := failsClearly(t, fd.command(args...), `(?s)error: builder for '/.*-big\.drv' failed (with exit code \d+|due to signal \d+ \(File size limit exceeded\))`)
		if fd.fill != nil && !strings.Contains(strings.ToLower(errOut), fd.message) {
			t.Errorf("the log lines do not say %q:\n%s", fd.message, errOut)
		}
		expectClean(t, "the failed build", "-big.drv")
		// With room again (the limit lifted), the store works.
		small := filepath.Join(b.dir, "small2.nix")
		os.WriteFile(small, []byte(`derivation { name = "small2"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo small > $out" ]; }`), 0o644)
		code, out, errOut := runCmd(t, b.command(t, append([]string{"build", small, "--no-link"}, sandboxArgs(t)...)...))
		if code != 0 || string(mustRead(t, strings.TrimSpace(out))) != "small\n" {
			t.Fatalf("build after the failure: %d %s", code, errOut)
		}
		if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
			t.Errorf("verify: %s", errOut)
		}
	})
}

// holdLocks is the helper process of TestStaleLocksOfKilledProcess: it
// takes, as a process adding NIXL_HOLD_PATH would, the path's lock, the
// GC lock exclusively (as a collector does) and the database's write
// lock in the middle of a transaction registering a path, says it is
// ready and waits to be killed.
func holdLocks() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "lock holder:", err)
		return 2
	}
	storeDir, stateDir := os.Getenv("NIXL_HOLD_STORE"), os.Getenv("NIXL_HOLD_STATE")
	s, err := local.Open(local.Options{StoreDir: storeDir, StateDir: stateDir})
	if err != nil {
		return fail(err)
	}
	if _, err := s.LockPaths([]string{os.Getenv("NIXL_HOLD_PATH")}); err != nil {
		return fail(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(stateDir, "db", "db.sqlite"))
	if err != nil {
		return fail(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		return fail(err)
	}
	for _, q := range []string{
		"pragma busy_timeout = 10000",
		"begin immediate",
		"insert into ValidPaths (path, hash, registrationTime, narSize) values ('" + os.Getenv("NIXL_HOLD_PHANTOM") + "', 'sha256:" + strings.Repeat("0", 64) + "', 1, 8)",
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			return fail(fmt.Errorf("%s: %w", q, err))
		}
	}
	gc, err := os.OpenFile(filepath.Join(stateDir, "gc.lock"), os.O_RDWR, 0)
	if err != nil {
		return fail(err)
	}
	if err := syscall.Flock(int(gc.Fd()), syscall.LOCK_EX); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(os.Getenv("NIXL_HOLD_READY"), []byte("ready"), 0o644); err != nil {
		return fail(err)
	}
	select {}
}

// TestStaleLocksOfKilledProcess kills (SIGKILL) a process holding every
// kind of lock the store has: a path lock, the GC lock and the database's
// write lock mid-transaction. While it lives, an addition waits for it;
// once it is dead the next commands proceed at once, its uncommitted
// registration is gone and no lock file is left.
func TestStaleLocksOfKilledProcess(t *testing.T) {
	b := newBuildEnv(t)
	src := filepath.Join(b.dir, "file.txt")
	os.WriteFile(src, []byte("contents\n"), 0o644)
	h, _, err := store.HashPath(nixhash.SHA256, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := store.Dir(b.store).MakeSourcePath("file.txt", h, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	target := store.Dir(b.store).Path(sp)
	phantom := filepath.Join(b.store, strings.Repeat("1", 32)+"-phantom")
	if code, _, errOut := runCmd(t, b.command(t, "store", "verify")); code != 0 {
		t.Fatal(errOut)
	}
	ready := filepath.Join(b.dir, "ready")
	exe, _ := os.Executable()
	holder := exec.Command(exe, "-test.run=^$")
	holder.Env = append(os.Environ(), "NIXL_TEST_LOCK_HOLDER=1", "NIXL_HOLD_STORE="+b.store, "NIXL_HOLD_STATE="+b.state,
		"NIXL_HOLD_PATH="+target, "NIXL_HOLD_PHANTOM="+phantom, "NIXL_HOLD_READY="+ready)
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	for i := 0; ; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if i == 1000 {
			t.Fatal("the lock holder did not get ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The locks are real: an addition waits.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	waiting := b.command(t, "store", "add", src)
	waiting = exec.CommandContext(ctx, waiting.Path, waiting.Args[1:]...)
	waiting.Env = append(os.Environ(), "NIXL_TEST_AS_CLI=1")
	waiting.Dir = b.dir
	err = waiting.Run()
	cancel()
	if ctx.Err() == nil {
		t.Fatalf("store add did not wait for the lock holder: %v", err)
	}
	// kill -9: the kernel releases flock locks and SQLite's locks.
	holder.Process.Kill()
	holder.Wait()
	start := time.Now()
	code, out, errOut := runCmd(t, b.command(t, "store", "add", src))
	if code != 0 || strings.TrimSpace(out) != target {
		t.Fatalf("store add after the kill: %d %q %s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, b.command(t, "store", "gc")); code != 0 {
		t.Fatalf("gc after the kill: %s", errOut)
	}
	if code, _, _ := runCmd(t, b.command(t, "store", "path-info", phantom)); code != 1 {
		t.Errorf("the killed process's uncommitted registration of %s is valid", phantom)
	}
	if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
		t.Errorf("verify: %s", errOut)
	}
	file := filepath.Join(b.dir, "after.nix")
	os.WriteFile(file, []byte(`derivation { name = "after"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo after > $out" ]; }`), 0o644)
	if code, _, errOut := runCmd(t, b.command(t, append([]string{"build", file, "--no-link"}, sandboxArgs(t)...)...)); code != 0 {
		t.Errorf("build after the kill: %s", errOut)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the commands after the kill took %v: they waited for stale locks", d)
	}
	if _, _, locks := storeEntries(t, b); len(locks) != 0 {
		t.Errorf("lock files left: %v", locks)
	}
}

// TestKillBuildAtAnyMoment kills nixl build (SIGKILL) at a series of
// moments while it builds a chain of derivations with several outputs
// (a fresh chain each time, so that the kills fall all over the build):
// after each kill every valid path is complete (verify --check-contents
// finds nothing); then each chain builds, leaving no scratch directory,
// temporary directory or lock file.
func TestKillBuildAtAnyMoment(t *testing.T) {
	b := newBuildEnv(t)
	sb := sandboxArgs(t)
	chain := func(salt int) string {
		file := filepath.Join(b.dir, fmt.Sprintf("chain%d.nix", salt))
		os.WriteFile(file, []byte(fmt.Sprintf(`let
  step = name: input: derivation {
    inherit name;
    salt = %d;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    outputs = [ "out" "doc" ];
    args = [ "-c" ''
      mkdir $out
      i=0
      while [ $i -lt 300 ]; do echo "line $i ${input}" >> $out/data; i=$((i+1)); done
      echo ${name} > $doc
      while [ $i -lt 20000 ]; do i=$((i+1)); done
      echo done >> $out/data
    '' ];
  };
  a = step "a" "none";
  b = step "b" "${a}";
in step "c" "${b}"
`, salt)), 0o644)
		return file
	}
	// The kills are spread over the time one whole build takes here
	// (measured on a chain of its own), so that they fall within builds
	// on fast and slow machines alike.
	start := time.Now()
	if code, _, errOut := runCmd(t, b.command(t, append([]string{"build", chain(100), "--no-link"}, sb...)...)); code != 0 {
		t.Fatalf("calibration build: %s", errOut)
	}
	whole := time.Since(start)
	delays := make([]time.Duration, 10)
	for i := range delays {
		delays[i] = whole * time.Duration(i+1) / time.Duration(len(delays)+2)
	}
	killed := 0
	for i, d := range delays {
		cmd := b.command(t, append([]string{"build", chain(i), "--no-link"}, sb...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(d):
			cmd.Process.Kill()
			<-done
			killed++
		}
		time.Sleep(50 * time.Millisecond) // the sandbox dies with nixl
		if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
			t.Fatalf("after a kill at %v: %s", d, errOut)
		}
	}
	if killed < len(delays)/2 {
		t.Fatalf("only %d of %d builds were killed before they ended", killed, len(delays))
	}
	t.Logf("%d builds killed midway (a whole build takes %v)", killed, whole)
	for i := range delays {
		code, out, errOut := runCmd(t, b.command(t, append([]string{"build", chain(i), "--no-link"}, sb...)...))
		if code != 0 {
			t.Fatalf("build %d after the kill: %s", i, errOut)
		}
		data := string(mustRead(t, filepath.Join(strings.TrimSpace(out), "data")))
		if !strings.HasSuffix(data, "done\n") || strings.Count(data, "\n") != 301 {
			t.Errorf("output %d: %q…", i, data[:min(len(data), 80)])
		}
	}
	paths, tmp, locks := storeEntries(t, b)
	for _, p := range paths {
		if strings.HasSuffix(p, "-build") {
			t.Errorf("scratch directory %s left", p)
		}
	}
	if len(tmp) > 0 || len(locks) > 0 {
		t.Errorf("left: temporary %v, locks %v", tmp, locks)
	}
	if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
		t.Errorf("verify: %s", errOut)
	}
}

// corrupt overwrites file (in a store path) with text.
func corrupt(t *testing.T, path, file, text string) {
	t.Helper()
	os.Chmod(path, 0o755)
	if file != "" {
		os.Chmod(filepath.Join(path, file), 0o644)
		path = filepath.Join(path, file)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRepair corrupts and deletes paths of the store and repairs
// them with nixl store verify --check-contents --repair: by rebuilding
// (the path's derivation is in the store) and by substituting from a
// binary cache. A path that can be neither is reported, exit code 1.
func TestVerifyRepair(t *testing.T) {
	t.Run("rebuild", func(t *testing.T) {
		needSandbox(t)
		b := newBuildEnv(t)
		file := filepath.Join(b.dir, "two.nix")
		os.WriteFile(file, []byte(`let
  dep = derivation { name = "dep"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo dep > $out" ]; };
in derivation {
  name = "top";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  outputs = [ "out" "doc" ];
  args = [ "-c" "read x < ${dep}; mkdir $out; echo $x > $out/file; echo top >> $out/file; echo doc > $doc" ];
}`), 0o644)
		code, out, errOut := runCmd(t, b.command(t, "build", file, "--no-link"))
		if code != 0 {
			t.Fatal(errOut)
		}
		top := strings.TrimSpace(out)
		deps, _ := filepath.Glob(filepath.Join(b.store, "*-dep"))
		if len(deps) != 1 {
			t.Fatalf("dep output: %v", deps)
		}
		dep := deps[0]
		// top modified; dep, an input of top's build (not a reference),
		// gone.
		corrupt(t, top, "file", "corrupted\n")
		os.Chmod(dep, 0o755)
		os.Remove(dep)
		code, _, errOut = runCmd(t, b.command(t, "store", "verify", "--check-contents"))
		if code != 1 || !strings.Contains(errOut, "path '"+top+"' was modified!") || !strings.Contains(errOut, "path '"+dep+"' is valid but has disappeared") {
			t.Fatalf("verify: %d %s", code, errOut)
		}
		code, _, errOut = runCmd(t, b.command(t, "store", "verify", "--check-contents", "--repair"))
		if code != 0 || !strings.Contains(errOut, "repaired path '"+top+"'") || !strings.Contains(errOut, "repaired path '"+dep+"'") {
			t.Fatalf("repair: %d %s", code, errOut)
		}
		if got := string(mustRead(t, filepath.Join(top, "file"))); got != "dep\ntop\n" {
			t.Errorf("repaired contents %q", got)
		}
		if st, err := os.Stat(top); err != nil || st.Mode().Perm() != 0o555 {
			t.Errorf("repaired path mode: %v %v", st.Mode(), err)
		}
		if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
			t.Errorf("verify after the repair: %s", errOut)
		}
		paths, tmp, locks := storeEntries(t, b)
		for _, p := range paths {
			if strings.HasSuffix(p, "-build") {
				t.Errorf("scratch directory %s left", p)
			}
		}
		if len(tmp) > 0 || len(locks) > 0 {
			t.Errorf("left: temporary %v, locks %v", tmp, locks)
		}
	})
	t.Run("substitute", func(t *testing.T) {
		b := newBuildEnv(t)
		src := writeStoreTestTree(t)
		code, out, errOut := runCmd(t, b.command(t, "store", "add", src))
		if code != 0 {
			t.Fatal(errOut)
		}
		p := strings.TrimSpace(out)
		cacheURL := "file://" + filepath.Join(b.dir, "cache")
		if code, _, errOut := runCmd(t, b.command(t, "copy", "--to", cacheURL, p)); code != 0 {
			t.Fatal(errOut)
		}
		corrupt(t, p, "a", "corrupted\n")
		// Without a substituter (and no deriver) it cannot be repaired.
		code, _, errOut = runCmd(t, b.command(t, "store", "verify", "--check-contents", "--repair"))
		if code != 1 || !strings.Contains(errOut, "cannot repair path '"+p+"': it has no deriver whose derivation is valid in the store") ||
			!strings.HasSuffix(errOut, "error: 1 of the 1 problems found in the store could not be repaired\n") {
			t.Fatalf("repair without a substituter: %d %s", code, errOut)
		}
		// The source path is content-addressed: the cache is trusted for it.
		code, _, errOut = runCmd(t, b.command(t, "store", "verify", "--check-contents", "--repair", "--substituters", cacheURL))
		if code != 0 || !strings.Contains(errOut, "repairing path '"+p+"' by substituting it from '"+cacheURL+"'") {
			t.Fatalf("repair: %d %s", code, errOut)
		}
		if got := string(mustRead(t, filepath.Join(p, "a"))); got != "hello\n" {
			t.Errorf("repaired contents %q", got)
		}
		if code, _, errOut := runCmd(t, b.command(t, "store", "verify", "--check-contents")); code != 0 {
			t.Errorf("verify after the repair: %s", errOut)
		}
		if _, tmp, locks := storeEntries(t, b); len(tmp) > 0 || len(locks) > 0 {
			t.Errorf("left: temporary %v, locks %v", tmp, locks)
		}
	})
}
