package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// shareEnv runs nixl and C++ Nix side by side on paths of one store
// directory, in one of two ways:
//
//   - "nix-store": the store directory is /nix/store on both sides. Nix
//     uses chroot stores (local?root=DIR). nixl cannot use the host's
//     /nix/store (it belongs to Nix, and nixl refuses it), so each nixl
//     command runs in a private mount namespace (unshare -m) where a
//     private directory is bind-mounted on /nix: nixl's store there is
//     /nix/store, and the host's store is never touched. Needs root.
//   - "custom": the store directory is a temporary directory S. nixl's
//     store is S itself; Nix uses local?store=S&real=… with its files
//     elsewhere (store paths are still computed for S).
type shareEnv struct {
	bin      string
	base     string
	storeDir string
	ns       bool
	home     string
}

func newShareEnv(t *testing.T, bin string, ns bool) *shareEnv {
	base := t.TempDir()
	t.Cleanup(func() {
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	e := &shareEnv{bin: bin, base: base, ns: ns, home: filepath.Join(base, "home")}
	os.MkdirAll(e.home, 0o755)
	if ns {
		e.storeDir = "/nix/store"
	} else {
		e.storeDir = filepath.Join(base, "S")
	}
	return e
}

// canUnshare reports whether private mount namespaces work here.
func canUnshare() bool {
	if os.Getuid() != 0 {
		return false
	}
	if _, err := os.Stat("/nix"); err != nil {
		return false
	}
	dir, err := os.MkdirTemp("", "nixl-unshare-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	return exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", `mount --bind "$0" /nix`, dir).Run() == nil
}

// nixlCmd is a nixl command on the nixl store named who.
func (e *shareEnv) nixlCmd(who string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	env := os.Environ()
	if e.ns {
		root := filepath.Join(e.base, "nixl-"+who)
		os.MkdirAll(root, 0o755)
		cmd = exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c",
			`mount --bind "$0" /nix && exec "$@"`, root, e.bin}, args...)...)
		env = append(env, "NIXL_STORE_DIR=/nix/store", "NIXL_STATE_DIR=/nix/var/nixl")
	} else {
		if who != "a" {
			panic("only one nixl store in custom mode")
		}
		cmd = exec.Command(e.bin, args...)
		env = append(env, "NIXL_STORE_DIR="+e.storeDir, "NIXL_STATE_DIR="+filepath.Join(e.base, "nixl-var"))
	}
	cmd.Env = env
	return cmd
}

func runShareCmd(t *testing.T, cmd *exec.Cmd, stdin []byte) ([]byte, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.Bytes(), stderr.String(), err
}

func (e *shareEnv) nixl(t *testing.T, who string, stdin []byte, args ...string) []byte {
	t.Helper()
	out, errOut, err := runShareCmd(t, e.nixlCmd(who, args...), stdin)
	if err != nil {
		t.Fatalf("nixl %v: %v\n%s", args, err, errOut)
	}
	return out
}

func (e *shareEnv) nixlFails(t *testing.T, who string, args ...string) string {
	t.Helper()
	_, errOut, err := runShareCmd(t, e.nixlCmd(who, args...), nil)
	if err == nil {
		t.Fatalf("nixl %v succeeded", args)
	}
	return errOut
}

// nixStore is the store URL of a private Nix store named name.
func (e *shareEnv) nixStore(name string) string {
	root := filepath.Join(e.base, "nix-"+name)
	if e.ns {
		return "local?root=" + root
	}
	return fmt.Sprintf("local?store=%s&real=%s/store&state=%s/state&log=%s/log", e.storeDir, root, root, root)
}

// nixCache is the URL Nix must be given for a binary cache: with the
// store directory when it is not Nix's default.
func (e *shareEnv) nixCache(u string) string {
	if e.ns {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "store=" + e.storeDir
}

func (e *shareEnv) nixCmd(prog string, args ...string) *exec.Cmd {
	if prog == "nix" {
		args = append([]string{"--extra-experimental-features", "nix-command"}, args...)
	}
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), "HOME="+e.home, "XDG_CACHE_HOME="+filepath.Join(e.home, ".cache"), "NIX_REMOTE=")
	return cmd
}

func (e *shareEnv) nix(t *testing.T, stdin []byte, prog string, args ...string) []byte {
	t.Helper()
	out, errOut, err := runShareCmd(t, e.nixCmd(prog, args...), stdin)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, errOut)
	}
	return out
}

func (e *shareEnv) nixFails(t *testing.T, prog string, args ...string) string {
	t.Helper()
	_, errOut, err := runShareCmd(t, e.nixCmd(prog, args...), nil)
	if err == nil {
		t.Fatalf("%s %v succeeded", prog, args)
	}
	return errOut
}

var listenRE = regexp.MustCompile(`on (http://127\.0\.0\.1:[0-9]+)`)

// serve starts nixl serve-cache on the nixl store who and returns its URL.
func (e *shareEnv) serve(t *testing.T, who string, args ...string) string {
	t.Helper()
	cmd := e.nixlCmd(who, append([]string{"serve-cache", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urlCh <- m[1]
				sent = true
			}
		}
		if !sent {
			close(urlCh)
		}
	}()
	select {
	case u, ok := <-urlCh:
		if !ok {
			t.Fatal("nixl serve-cache exited without listening")
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("nixl serve-cache did not start")
	}
	return ""
}

// craftExport makes a nix-store --export stream of input-addressed paths
// (as build outputs are, so signatures matter) in dir: "dep", and "top"
// referring to it. It returns the stream and the two paths.
func craftExport(t *testing.T, dir store.Dir) ([]byte, string, string) {
	t.Helper()
	newPath := func(name string) string {
		var seed [32]byte
		rand.Read(seed[:])
		sp, err := dir.MakeStorePath("output:out", nixhash.Sum(nixhash.SHA256, seed[:]), name)
		if err != nil {
			t.Fatal(err)
		}
		return dir.Path(sp)
	}
	dep, top := newPath("dep"), newPath("top")
	var buf bytes.Buffer
	u64 := func(n uint64) { binary.Write(&buf, binary.LittleEndian, n) }
	str := func(s string) {
		u64(uint64(len(s)))
		buf.WriteString(s)
		buf.Write(make([]byte, (8-len(s)%8)%8))
	}
	for _, p := range []struct {
		path string
		refs []string
	}{{dep, nil}, {top, []string{dep}}} {
		tree := filepath.Join(t.TempDir(), "t")
		os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
		text := "#!/bin/sh\necho " + filepath.Base(p.path) + "\n" + strings.Join(p.refs, "\n") + strings.Repeat("padding ", 5000)
		os.WriteFile(filepath.Join(tree, "bin", "prog"), []byte(text), 0o755)
		os.Symlink("bin/prog", filepath.Join(tree, "link"))
		u64(1)
		if _, err := store.DumpPath(&buf, tree, nil); err != nil {
			t.Fatal(err)
		}
		u64(0x4558494e)
		str(p.path)
		u64(uint64(len(p.refs)))
		for _, r := range p.refs {
			str(r)
		}
		str("")
		u64(0)
	}
	u64(0)
	return buf.Bytes(), dep, top
}

// putCache is an HTTP server storing what is PUT and serving it back.
func putCache(t *testing.T) string {
	dir := t.TempDir()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/")))
		switch r.Method {
		case http.MethodPut:
			mu.Lock()
			defer mu.Unlock()
			os.MkdirAll(filepath.Dir(name), 0o755)
			data, _ := io.ReadAll(r.Body)
			os.WriteFile(name, data, 0o644)
			w.WriteHeader(http.StatusCreated)
		default:
			http.ServeFile(w, r, name)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func nixlSigs(t *testing.T, e *shareEnv, who, path string) []string {
	t.Helper()
	var infos []struct {
		Signatures []string `json:"signatures"`
	}
	if err := json.Unmarshal(e.nixl(t, who, nil, "store", "path-info", "--json", path), &infos); err != nil || len(infos) != 1 {
		t.Fatalf("path-info: %v", err)
	}
	return infos[0].Signatures
}

func TestShareInteropWithNix(t *testing.T) {
	for _, prog := range []string{"nix", "nix-store", "unshare"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("NOTICE: %s is not installed: the interoperability tests with C++ Nix were NOT run", prog)
		}
	}
	bin := buildNixl(t)
	t.Run("custom", func(t *testing.T) { testShareInterop(t, newShareEnv(t, bin, false)) })
	t.Run("nix-store", func(t *testing.T) {
		if !canUnshare() {
			t.Skip("NOTICE: no private mount namespaces (needs root): the /nix/store interoperability test was NOT run")
		}
		testShareInterop(t, newShareEnv(t, bin, true))
	})
}

func testShareInterop(t *testing.T, e *shareEnv) {
	dir := store.Dir(e.storeDir)
	keys := filepath.Join(e.base, "keys")
	os.MkdirAll(keys, 0o755)
	nixSK, nixPK := filepath.Join(keys, "nix.sk"), filepath.Join(keys, "nix.pk")
	nixlSK, nixlPK := filepath.Join(keys, "nixl.sk"), filepath.Join(keys, "nixl.pk")
	e.nix(t, nil, "nix-store", "--generate-binary-cache-key", "nix-test-1", nixSK, nixPK)
	e.nixl(t, "a", nil, "store", "generate-key", "--name", "nixl-test-1", "--secret", nixlSK, "--public", nixlPK)
	readKey := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	nixPub, nixlPub := readKey(nixPK), readKey(nixlPK)

	// Nix imports input-addressed paths; nixl imports nix-store --export
	// output and exports the same bytes.
	stream, dep, top := craftExport(t, dir)
	nixA := e.nixStore("a")
	e.nix(t, stream, "nix-store", "--store", nixA, "--import")
	closure := strings.Fields(string(e.nix(t, nil, "nix-store", "--store", nixA, "-qR", top)))
	if !slices.Equal(closure, []string{dep, top}) {
		t.Fatalf("closure %v", closure)
	}
	nixExport := e.nix(t, nil, "nix-store", append([]string{"--store", nixA, "--export"}, closure...)...)
	imported := strings.Fields(string(e.nixl(t, "a", nixExport, "store", "import")))
	if !slices.Equal(imported, []string{dep, top}) {
		t.Fatalf("nixl imported %v", imported)
	}
	if got := e.nixl(t, "a", nil, "store", "export", top); !bytes.Equal(got, nixExport) {
		t.Fatalf("nixl store export gives %d bytes that differ from nix-store --export's %d", len(got), len(nixExport))
	}
	e.nixl(t, "a", nil, "store", "verify", "--check-contents")

	// The same key signs the same path identically (Ed25519 is
	// deterministic): a Nix key used by nixl.
	e.nix(t, nil, "nix", "store", "sign", "--store", nixA, "--key-file", nixSK, "-r", top)
	nixSigs := strings.Fields(string(e.nix(t, nil, "nix", "path-info", "--store", nixA, "--sigs", top)))[1:]
	e.nixl(t, "a", nil, "store", "sign", "--key", nixSK, "-r", top)
	if got := nixlSigs(t, e, "a", top); len(nixSigs) != 1 || !slices.Equal(got, nixSigs) {
		t.Fatalf("nixl signed %v, nix %v", got, nixSigs)
	}

	// nixl serves its store; Nix substitutes with nixl's signature by the
	// Nix key and by the nixl key, and refuses untrusted signatures.
	srvNixKey := e.serve(t, "a", "--secret-key", nixSK)
	srvNixlKey := e.serve(t, "a", "--secret-key", nixlSK, "--compression", "xz")
	nixB := e.nixStore("b")
	msg := e.nixFails(t, "nix", "copy", "--store", nixB, "--from", e.nixCache(srvNixKey), "--trusted-public-keys", nixlPub, top)
	if !strings.Contains(msg, "signature") {
		t.Errorf("nix copy with an untrusted key: %s", msg)
	}
	e.nix(t, nil, "nix", "copy", "--store", nixB, "--from", e.nixCache(srvNixKey), "--trusted-public-keys", nixPub, top)
	e.nix(t, nil, "nix", "store", "verify", "--store", nixB, "--sigs-needed", "1", "--trusted-public-keys", nixPub, "-r", top)
	nixC := e.nixStore("c")
	e.nix(t, nil, "nix-store", "--store", nixC, "-r", top, "--option", "substituters", e.nixCache(srvNixlKey), "--option", "trusted-public-keys", nixlPub)
	e.nix(t, nil, "nix", "store", "verify", "--store", nixC, "--sigs-needed", "1", "--trusted-public-keys", nixlPub, "-r", top)

	// nixl uploads to an HTTP cache with PUT; Nix substitutes from it.
	putURL := putCache(t)
	e.nixl(t, "a", nil, "copy", "--to", putURL, "--compression", "zstd", "--secret-key", nixlSK, top)
	nixD := e.nixStore("d")
	e.nix(t, nil, "nix", "copy", "--store", nixD, "--from", e.nixCache(putURL), "--trusted-public-keys", nixlPub, top)

	// Nix writes file caches (signed with the nixl key, xz and zstd);
	// nixl substitutes from them, only with the trusted key.
	e.nix(t, nil, "nix", "store", "sign", "--store", nixA, "--key-file", nixlSK, "-r", top)
	for _, comp := range []string{"xz", "zstd"} {
		cacheDir := filepath.Join(e.base, "cache-"+comp)
		e.nix(t, nil, "nix", "copy", "--store", nixA, "--to", e.nixCache("file://"+cacheDir+"?compression="+comp), top)
		e.nixl(t, "a", nil, "store", "delete", top, dep)
		msg := e.nixlFails(t, "a", "copy", "--from", "file://"+cacheDir, "--trusted-public-keys", "other-1:"+strings.SplitN(nixPub, ":", 2)[1], top)
		if !strings.Contains(msg, "does not have a valid signature") {
			t.Errorf("nixl copy --from with an untrusted key: %s", msg)
		}
		if msg := e.nixlFails(t, "a", "store", "path-info", dep); !strings.Contains(msg, "not valid") {
			t.Errorf("a path was registered despite the bad signature: %s", msg)
		}
		e.nixl(t, "a", nil, "copy", "--from", "file://"+cacheDir, "--trusted-public-keys", nixlPub, top)
		if sigs := nixlSigs(t, e, "a", top); !slices.ContainsFunc(sigs, func(s string) bool { return strings.HasPrefix(s, "nixl-test-1:") }) {
			t.Errorf("signatures after substitution: %v", sigs)
		}
		e.nixl(t, "a", nil, "store", "verify", "--check-contents")
	}

	if e.ns {
		// nixl substitutes from nixl serve-cache, both on /nix/store.
		e.nixl(t, "b", nil, "copy", "--from", srvNixKey, "--trusted-public-keys", nixPub, top)
		if got := e.nixl(t, "b", nil, "store", "export", top); !bytes.Equal(got, nixExport) {
			t.Error("the substituted paths differ")
		}
	}
}

// TestShareCLI runs the sharing commands in process, without Nix.
func TestShareCLI(t *testing.T) {
	d := newStoreTestDirs(t)
	src := writeStoreTestTree(t)
	p := strings.TrimSpace(mustRunStore(t, d, "add", src))
	keyDir := t.TempDir()
	sk, pk := filepath.Join(keyDir, "sk"), filepath.Join(keyDir, "pk")
	mustRunStore(t, d, "generate-key", "--name", "cli-1", "--secret", sk, "--public", pk)
	mustRunStore(t, d, "sign", "--key", sk, p)
	if out := mustRunStore(t, d, "path-info", "--json", p); !strings.Contains(out, `"cli-1:`) {
		t.Errorf("no signature recorded: %s", out)
	}
	export := mustRunStore(t, d, "export", p)
	mustRunStore(t, d, "delete", p)
	code, out, errOut := runStore(t, d, strings.NewReader(export), "import")
	if code != 0 || strings.TrimSpace(out) != p {
		t.Fatalf("import: %d %q %s", code, out, errOut)
	}
	// A truncated stream imports nothing.
	mustRunStore(t, d, "delete", p)
	code, _, errOut = runStore(t, d, strings.NewReader(export[:len(export)/2]), "import")
	if code == 0 || !strings.Contains(errOut, "nothing was imported") {
		t.Errorf("truncated import: %d %s", code, errOut)
	}
	if code, _, _ := runStore(t, d, nil, "path-info", p); code == 0 {
		t.Error("the path is valid after a failed import")
	}
	code, _, errOut = runStore(t, d, strings.NewReader(export), "import")
	if code != 0 {
		t.Fatal(errOut)
	}

	// copy --to a file cache, delete, copy --from it (the path is content
	// addressed, so it needs no trusted key).
	cacheDir := filepath.Join(t.TempDir(), "cache")
	nixl := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
		code := c.main(append(args[:1:1], append([]string{"--store-dir", d.store, "--state-dir", d.state}, args[1:]...)...))
		return code, stderr.String()
	}
	if code, msg := nixl("copy", "--to", "file://"+cacheDir, "--compression", "zstd", "--secret-key", sk, p); code != 0 {
		t.Fatal(msg)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "nix-cache-info")); err != nil {
		t.Fatal(err)
	}
	mustRunStore(t, d, "delete", p)
	if code, msg := nixl("copy", "--from", "file://"+cacheDir, p); code != 0 {
		t.Fatal(msg)
	}
	mustRunStore(t, d, "verify", "--check-contents")
	for _, args := range [][]string{
		{"copy", p},
		{"copy", "--to", "file:///x", "--from", "file:///y", p},
		{"copy", "--to", "file://" + cacheDir, "--compression", "lz4", p},
		{"copy", "--to", "ftp://x", p},
	} {
		if code, _ := nixl(args...); code == 0 {
			t.Errorf("nixl %v succeeded", args)
		}
	}
}
