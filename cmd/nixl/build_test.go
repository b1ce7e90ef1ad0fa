package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nixl-project/nixl/realise/sandbox"
)

// TestMain lets the test binary serve as the nixl command for the tests
// that need separate processes (NIXL_TEST_AS_CLI=1); the sandbox's init
// is handled by build.go's init function.
func TestMain(m *testing.M) {
	if os.Getenv("NIXL_TEST_AS_CLI") == "1" {
		c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
		os.Exit(c.main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

var helloFile, _ = filepath.Abs("../../testdata/examples/hello.nixl")

type buildEnv struct {
	dir, store, state string
}

func newBuildEnv(t *testing.T) buildEnv {
	t.Helper()
	d := newStoreTestDirs(t)
	os.Chmod(filepath.Dir(d.store), 0o755)
	return buildEnv{dir: filepath.Dir(d.store), store: d.store, state: d.state}
}

// nixl runs the command in process with the environment's store.
func (b buildEnv) nixl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := c.main(b.args(args))
	if strings.Contains(stderr.String(), "internal error") {
		t.Fatalf("nixl %v panicked: %s", args, stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

// args inserts the store flags after the (sub)command.
func (b buildEnv) args(args []string) []string {
	n := 1
	if args[0] == "store" || args[0] == "profile" {
		n = 2
	}
	return append(append(append([]string{}, args[:n]...), "--store-dir", b.store, "--state-dir", b.state), args[n:]...)
}

// command returns a nixl subprocess (the test binary in CLI mode).
func (b buildEnv) command(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, b.args(args)...)
	cmd.Env = append(os.Environ(), "NIXL_TEST_AS_CLI=1")
	cmd.Dir = b.dir
	return cmd
}

func needSandbox(t *testing.T) {
	t.Helper()
	if err := sandbox.Check(); err != nil {
		t.Skip(err)
	}
}

// needBusybox skips when the sandbox's /bin/sh would not be a static
// busybox, whose applets (mkdir, chmod) hello.nixl uses.
func needBusybox(t *testing.T) {
	t.Helper()
	needSandbox(t)
	if p := sandbox.DefaultPaths(); !strings.Contains(p[0], "busybox") {
		t.Skip("no static busybox for the sandbox's /bin/sh (install busybox-static)")
	}
}

func TestBuildHello(t *testing.T) {
	needBusybox(t)
	b := newBuildEnv(t)
	link := filepath.Join(b.dir, "result")
	code, out, errOut := b.nixl(t, "build", "-f", helloFile, "-o", link)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	outPath := strings.TrimSpace(out)
	if !strings.HasPrefix(outPath, b.store+"/") || !strings.HasSuffix(outPath, "-hello") {
		t.Fatalf("output %q", out)
	}
	if target, err := os.Readlink(link); err != nil || target != outPath {
		t.Fatalf("result link: %q %v", target, err)
	}
	got, err := exec.Command(filepath.Join(link, "bin", "hello")).Output()
	if err != nil || string(got) != "Hello, world!\n" {
		t.Fatalf("hello printed %q (%v)", got, err)
	}
	// The result link is a root: the collector keeps the output.
	code, out, _ = b.nixl(t, "store", "roots")
	if code != 0 || !strings.Contains(out, outPath) {
		t.Errorf("roots: %s", out)
	}
	// A second build does nothing and prints the same path.
	code, out2, errOut := b.nixl(t, "build", "-f", helloFile, "--no-link")
	if code != 0 || out2 != out && strings.TrimSpace(out2) != outPath || strings.Contains(errOut, "building") {
		t.Errorf("rebuild: %d %q %q", code, out2, errOut)
	}
	// instantiate prints the .drv, which is in the store.
	code, drv, errOut := b.nixl(t, "instantiate", helloFile)
	drv = strings.TrimSpace(drv)
	if code != 0 || !strings.HasSuffix(drv, "-hello.drv") {
		t.Fatalf("instantiate: %d %q %s", code, drv, errOut)
	}
	code, out, _ = b.nixl(t, "store", "path-info", drv)
	if code != 0 {
		t.Errorf("the .drv is not valid")
	}
	// nixl log of the output and of the .drv.
	for _, arg := range []string{outPath, drv} {
		if code, _, errOut := b.nixl(t, "log", arg); code != 0 {
			t.Errorf("log %s: %s", arg, errOut)
		}
	}
}

// TestBuildHelloAsUser builds hello.nixl as a user without privileges, in
// its default per-user store, and runs the result as that user.
func TestBuildHelloAsUser(t *testing.T) {
	needBusybox(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to another user")
	}
	exe, _ := os.Executable()
	dir, err := os.MkdirTemp("", "nixl-user-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("chmod", "-R", "u+w", dir).Run()
		os.RemoveAll(dir)
	})
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "nixl")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, data, 0o755)
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o755)
	os.Chown(home, 65534, 65534)
	os.WriteFile(filepath.Join(dir, "hello.nixl"), mustRead(t, helloFile), 0o644)
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = home
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "NIXL_TEST_AS_CLI=1"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, stderr.String())
		}
		return string(out), err
	}
	out, err := run(bin, "build", "-f", filepath.Join(dir, "hello.nixl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, filepath.Join(home, ".local/share/nixl/store")+"/") {
		t.Errorf("output %q not in the per-user store", out)
	}
	got, err := run(filepath.Join(home, "result", "bin", "hello"))
	if err != nil || got != "Hello, world!\n" {
		t.Fatalf("hello printed %q (%v)", got, err)
	}
	st, _ := os.Stat(strings.TrimSpace(out))
	if st.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("output owned by uid %d", st.Sys().(*syscall.Stat_t).Uid)
	}
}

func mustRead(t *testing.T, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBuildMatchesNix builds hello.nixl with nix-build 2.8 and with nixl
// in the same store directory (one after the other: nix's is removed
// first), both sandboxed with busybox as /bin/sh, and compares the output
// path and NAR hash.
func TestBuildMatchesNix(t *testing.T) {
	needBusybox(t)
	if _, err := exec.LookPath("nix-build"); err != nil {
		t.Skip("nix-build is not installed")
	}
	b := newBuildEnv(t)
	bb := strings.TrimPrefix(sandbox.DefaultPaths()[0], "/bin/sh=")
	nixStore := "local?store=" + b.store + "&state=" + filepath.Join(b.dir, "nixstate") + "&log=" + filepath.Join(b.dir, "nixlog")
	cmd := exec.Command("nix-build", helloFile, "--no-out-link", "--store", nixStore,
		"--option", "sandbox", "true", "--option", "sandbox-paths", "/bin/sh="+bb, "--option", "substituters", "")
	cmd.Dir = b.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("nix-build cannot build here: %v\n%s", err, stderr.String())
	}
	nixPath := strings.TrimSpace(string(out))
	hash, err := exec.Command("nix-store", "--store", nixStore, "-q", "--hash", nixPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	nixHash := strings.TrimSpace(string(hash))
	// Make way for nixl's store.
	exec.Command("chmod", "-R", "u+w", b.store).Run()
	for _, d := range []string{b.store, filepath.Join(b.dir, "nixstate"), filepath.Join(b.dir, "nixlog")} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	code, nixlOut, errOut := b.nixl(t, "build", helloFile, "--no-link")
	if code != 0 {
		t.Fatalf("nixl build: %s", errOut)
	}
	if strings.TrimSpace(nixlOut) != nixPath {
		t.Fatalf("nix-build built %s, nixl %s", nixPath, nixlOut)
	}
	code, info, _ := b.nixl(t, "store", "path-info", "--json", nixPath)
	if code != 0 {
		t.Fatal("path-info failed")
	}
	_ = info
	dump := b.command(t, "store", "dump", nixPath)
	nar, err := dump.Output()
	if err != nil {
		t.Fatal(err)
	}
	hashCmd := exec.Command("nix-hash", "--type", "sha256", "--flat", "--base32", "/dev/stdin")
	hashCmd.Stdin = bytes.NewReader(nar)
	got, err := hashCmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if "sha256:"+strings.TrimSpace(string(got)) != nixHash {
		t.Errorf("NAR hash: nix %s, nixl sha256:%s", nixHash, got)
	}
	if !strings.Contains(info, `"narHash"`) {
		t.Errorf("path-info: %s", info)
	}
}

// graphFile writes an expression of n derivations (each depending on the
// one at half its index) whose builders record each run in counter, a
// file outside the store (the builds run without the sandbox).
func graphFile(t *testing.T, dir string, n int, counter, extra string) string {
	src := fmt.Sprintf(`let
  mk = i: derivation {
    name = "g${toString i}";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    dep = if i == 0 then "" else mk (i / 2);
    args = [ "-c" "echo $name >> %s; %s echo $name > $out" ];
  };
in builtins.genList mk %d
`, counter, extra, n)
	p := filepath.Join(dir, "graph.nix")
	os.WriteFile(p, []byte(src), 0o644)
	return p
}

// TestConcurrentProcesses runs two nixl build processes on one graph at
// once: each derivation is built exactly once.
func TestConcurrentProcesses(t *testing.T) {
	b := newBuildEnv(t)
	counter := filepath.Join(b.dir, "runs")
	file := graphFile(t, b.dir, 30, counter, `i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done;`)
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for range 2 {
		cmd := b.command(t, "build", file, "--no-link", "--sandbox=off", "-j", "3")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmds = append(cmds, cmd)
		errs = append(errs, &stderr)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, errs[i])
		}
	}
	runs := strings.Fields(string(mustRead(t, counter)))
	seen := map[string]int{}
	for _, r := range runs {
		seen[r]++
	}
	if len(runs) != 30 || len(seen) != 30 {
		t.Errorf("%d builds of %d derivations: %v", len(runs), len(seen), seen)
	}
	building := strings.Count(errs[0].String(), "building '") + strings.Count(errs[1].String(), "building '")
	if building != 30 {
		t.Errorf("%d 'building' lines", building)
	}
}

// TestKillAndRecover kills nixl (kill -9) while a sandboxed builder runs;
// nothing is valid afterwards, and the next build recovers and succeeds.
func TestKillAndRecover(t *testing.T) {
	needSandbox(t)
	b := newBuildEnv(t)
	file := filepath.Join(b.dir, "slow.nix")
	os.WriteFile(file, []byte(`derivation {
  name = "slow";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo started; echo partial > $out; i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; echo done > $out" ];
}`), 0o644)
	cmd := b.command(t, "build", file, "--no-link", "-L")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		var all []byte
		for {
			n, err := stderr.Read(buf)
			all = append(all, buf[:n]...)
			if bytes.Contains(all, []byte("slow> started")) {
				started <- true
				io.Copy(io.Discard, stderr)
				return
			}
			if err != nil {
				started <- false
				return
			}
		}
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Fatal("the build did not start")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("timeout")
	}
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(100 * time.Millisecond) // the sandbox dies with its parent
	entries, _ := os.ReadDir(b.store)
	var outPath string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-slow") {
			outPath = filepath.Join(b.store, e.Name())
		}
	}
	if outPath != "" {
		if code, _, _ := b.nixl(t, "store", "path-info", outPath); code == 0 {
			t.Fatal("a killed build left a valid output")
		}
	}
	code, out, errOut := b.nixl(t, "build", file, "--no-link")
	if code != 0 {
		t.Fatalf("rebuild after kill: %s", errOut)
	}
	if got := string(mustRead(t, strings.TrimSpace(out))); got != "done\n" {
		t.Errorf("output %q", got)
	}
	entries, _ = os.ReadDir(b.store)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-build") {
			t.Errorf("scratch directory %s left behind", e.Name())
		}
	}
	locks, _ := os.ReadDir(filepath.Join(b.state, "locks"))
	if len(locks) != 0 {
		t.Errorf("lock files left: %v", locks)
	}
}

func TestBuildCheckAndFailure(t *testing.T) {
	needSandbox(t)
	b := newBuildEnv(t)
	file := filepath.Join(b.dir, "nondet.nix")
	os.WriteFile(file, []byte(`{
  nondet = derivation {
    name = "nondet";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "read up idle < /proc/uptime; echo \"$up $idle\" > $out" ];
  };
  fails = derivation {
    name = "fails";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo oops; exit 7" ];
  };
  foreign = derivation { name = "foreign"; system = "sparc-sunos"; builder = "/bin/sh"; };
}`), 0o644)
	if code, _, errOut := b.nixl(t, "build", file, "-A", "nondet", "--no-link"); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := b.nixl(t, "build", file, "-A", "nondet", "--check")
	if code != 1 || !strings.Contains(errOut, "may not be deterministic") || !strings.Contains(errOut, "file '.' differs: sizes") {
		t.Errorf("--check: %d %s", code, errOut)
	}
	code, _, errOut = b.nixl(t, "build", file, "-A", "fails")
	if code != 1 || !strings.Contains(errOut, "failed with exit code 7;\nlast 1 log lines:\n> oops\n") {
		t.Errorf("failure: %d %s", code, errOut)
	}
	code, _, errOut = b.nixl(t, "build", file, "-A", "foreign")
	if code != 1 || !strings.Contains(errOut, "'sparc-sunos'") {
		t.Errorf("foreign: %d %s", code, errOut)
	}
	code, _, errOut = b.nixl(t, "build", file, "-A", "fails", "--dry-run")
	if code != 0 || !strings.Contains(errOut, "this derivation will be built:\n  ") {
		t.Errorf("dry run: %d %s", code, errOut)
	}
}

// TestImportFromDerivation imports a file that a derivation builds.
func TestImportFromDerivation(t *testing.T) {
	needSandbox(t)
	b := newBuildEnv(t)
	file := filepath.Join(b.dir, "ifd.nix")
	os.WriteFile(file, []byte(`let
  gen = derivation {
    name = "gen";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo '{ answer = 42; }' > $out" ];
  };
  value = import gen;
in derivation {
  name = "uses-${toString value.answer}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo ${toString value.answer} > $out" ];
}`), 0o644)
	code, out, errOut := b.nixl(t, "build", file, "--no-link")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "-uses-42") {
		t.Errorf("output %q", out)
	}
	// nixl eval does not build.
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	evalFile := filepath.Join(b.dir, "ifd-eval.nix")
	os.WriteFile(evalFile, []byte(`(import (derivation {
    name = "gen2";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo 1 > $out" ];
  })) + 1`), 0o644)
	if c.main([]string{"eval", "--store-dir", b.store, evalFile}) == 0 || !strings.Contains(stderr.String(), "is not valid") {
		t.Errorf("nixl eval: %s", stderr.String())
	}
}

// TestEvalAndBuildAgreeOnPaths: with no store named, nixl eval computes
// paths in the store nixl build writes to (the per-user one), so the
// outPath it prints is the path the build makes.
func TestEvalAndBuildAgreeOnPaths(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("NIXL_STORE_DIR", "")
	t.Setenv("NIXL_STATE_DIR", "")
	t.Setenv("NIX_STORE_DIR", "/elsewhere/store")
	expr := `(derivation { name = "agree"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo hi > $out" ]; }).outPath`
	run := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
		if code := c.main(args); code != 0 {
			t.Fatalf("nixl %v: exit %d\n%s", args, code, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	evaluated := strings.Trim(run("eval", "-E", expr), `"`)
	if want := filepath.Join(data, "nixl", "store") + "/"; !strings.HasPrefix(evaluated, want) {
		t.Fatalf("eval computed %s, not a path in %s", evaluated, want)
	}
	built := run("build", "--no-link", "--sandbox=off", "-E", strings.TrimSuffix(expr, ".outPath"))
	if built != evaluated {
		t.Errorf("eval says %s, build made %s", evaluated, built)
	}
}
