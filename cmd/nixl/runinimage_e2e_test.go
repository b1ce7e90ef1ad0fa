package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/nixl-project/nixl/realise/builtinbuild"
	"github.com/nixl-project/nixl/realise/image"
	"github.com/nixl-project/nixl/realise/sandbox"
)

var multistageExample, _ = filepath.Abs("../../testdata/examples/multistage.nixl")

// runInImageEnv is the variable that enables TestRunInImageEndToEnd. It
// needs root and debootstrap the first time, when it makes a Debian root
// file system from the mirror of the host's apt sources (about 100 MB
// downloaded; about 3 minutes on a 2-core machine: debootstrap, then
// tar and gzip), and caches the tarball by suite and architecture (see
// testCacheDir); later runs take 15 to 25 seconds:
//
//	NIXL_TEST_RUNINIMAGE=1 go test ./cmd/nixl -run RunInImageEndToEnd -v
const runInImageEnv = "NIXL_TEST_RUNINIMAGE"

// TestRunInImageEndToEnd is the acceptance test of Docker images as
// pinned build environments. A Debian root file system with gcc, made by
// debootstrap, becomes a Docker archive (plus a layer of whiteouts and a
// device node), nixl's image.build puts a layer of its own on it, nixl
// image push sends it to a registry on 127.0.0.1, and image.pull takes
// it back by digest. Then image.runInImage compiles a static C program
// with the image's gcc, inside the image's tree, and the program runs on
// the host; the builder sees the image's files and nothing of the
// host's (a marker in the host's /home, the host's debootstrap), cannot
// write to "/", has no network; a second build does nothing; pulling a
// wrong digest fails and registers nothing; the multi-stage example
// builds with this image as its toolchain.
func TestRunInImageEndToEnd(t *testing.T) {
	if os.Getenv(runInImageEnv) == "" {
		t.Skipf("SKIPPED: set %s=1 to run the runInImage acceptance test (debootstrap, about a minute; see runinimage_e2e_test.go)", runInImageEnv)
	}
	if _, ok := builtinbuild.Lookup("builtin:oci-rootfs"); !ok {
		t.Fatal("builtin:oci-rootfs is not registered")
	}
	if err := sandbox.Check(); err != nil {
		t.Skipf("SKIPPED: the runInImage test needs the build sandbox: %v", err)
	}
	start := time.Now()
	rootfsTar := debootstrapTarball(t)
	t.Logf("root file system tarball %s (%v)", rootfsTar, time.Since(start).Round(time.Millisecond))

	b := newBuildEnv(t)
	archive := filepath.Join(b.dir, "debian-gcc.tar")
	writeDockerArchive(t, archive, rootfsTar)

	// A marker only the host has: the builder must not see it.
	marker := fmt.Sprintf("/home/nixl-runinimage-marker-%d", os.Getpid())
	if err := os.WriteFile(marker, []byte("host only\n"), 0o644); err != nil {
		t.Skipf("SKIPPED: cannot write the host marker %s: %v", marker, err)
	}
	defer os.Remove(marker)

	build := func(args ...string) (int, string, string) {
		t.Helper()
		return b.nixl(t, append([]string{"build"}, args...)...)
	}
	mustBuild := func(args ...string) (string, string) {
		t.Helper()
		t0 := time.Now()
		code, out, errOut := build(args...)
		if code != 0 {
			t.Fatalf("nixl build %v: exit %d\n%s", args, code, errOut)
		}
		t.Logf("nixl build %v: %v", args, time.Since(t0).Round(time.Millisecond))
		lines := strings.Fields(out)
		if len(lines) == 0 {
			t.Fatalf("nixl build %v printed nothing", args)
		}
		return lines[len(lines)-1], errOut
	}

	// nixl's image.build on the Docker archive, pushed to a registry.
	local := filepath.Join(b.dir, "local.nixl")
	writeText(t, local, fmt.Sprintf(`let nixl = import <nixl> { }; in
nixl.image.build {
  name = "debian-gcc";
  tag = "test";
  fromImage = %s;
  extraFiles."/etc/nixl-built" = "a layer nixl built\n";
}
`, archive))
	layout, _ := mustBuild("--no-link", local)
	in, err := image.Inspect(layout)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(in.Images[0].Layers); n != 3 {
		t.Fatalf("the image has %d layers, want 3 (debootstrap, whiteouts, nixl's)", n)
	}
	digest := in.Top.Digest
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t0 := time.Now()
	if code, _, errOut := runImage(t, "push", layout, host+"/nixl-test/debian-gcc:test"); code != 0 {
		t.Fatalf("push: %s", errOut)
	}
	t.Logf("push: %v", time.Since(t0).Round(time.Millisecond))

	// The pinned toolchain, and a build in it.
	toolchain := filepath.Join(b.dir, "toolchain.nixl")
	writeToolchain := func(ref, digest, hash string) {
		hashAttr := ""
		if hash != "" {
			hashAttr = fmt.Sprintf("hash = %q;", hash)
		}
		writeText(t, toolchain, fmt.Sprintf(`(import <nixl> { }).image.pull { ref = %q; digest = %q; %s }`+"\n", ref, digest, hashAttr))
	}
	probe := filepath.Join(b.dir, "probe.nixl")
	writeText(t, probe, fmt.Sprintf(`let
  nixl = import <nixl> { };
  toolchain = import %s;
  source = nixl.writeText "hello.c" ''
    #include <stdio.h>
    int main(void) { printf("hello from gcc %%d.%%d in the image\n", __GNUC__, __GNUC_MINOR__); return 0; }
  '';
in
{
  inherit toolchain;
  rootfs = nixl.image.rootfs toolchain;
  hello = nixl.image.runInImage {
    name = "hello";
    image = toolchain;
    env.MINE = "mine";
    script = ''
      . /etc/os-release; echo "running in $ID $VERSION_CODENAME"
      fail() { echo "FAIL: $*"; exit 1; }
      [ -e /etc/nixl-built ] || fail "nixl's layer is missing"
      [ ! -e /etc/issue ] || fail "the whiteout of /etc/issue was not applied"
      [ "$(ls /usr/share/doc)" = README.nixl ] || fail "the opaque /usr/share/doc holds $(ls /usr/share/doc | head -3)"
      [ ! -e /dev/nixl-device ] || fail "the layer's device node is there"
      [ ! -e %s ] || fail "the host's /home is visible"
      [ ! -e /usr/sbin/debootstrap ] || fail "the host's /usr is visible"
      [ "$NIXL_IMAGE_ENV" = from-the-image ] || fail "the image's Env is not set: $NIXL_IMAGE_ENV"
      [ "$MINE" = mine ] || fail "env is not set"
      [ "$(id -u)" = 1000 ] || fail "not the build user: $(id -u)"
      ! touch /x 2>/dev/null || fail "/ is writable"
      ! touch /usr/bin/x 2>/dev/null || fail "/usr is writable"
      ! touch /etc/x 2>/dev/null || fail "/etc is writable"
      [ -z "$(find /usr /etc -perm /6000)" ] || fail "setuid files: $(find /usr /etc -perm /6000)"
      [ "$(grep -c : /proc/net/dev)" = 1 ] || fail "network interfaces: $(cat /proc/net/dev)"
      echo "PATH=$PATH"
      mkdir -p $out/bin
      gcc -static -O2 -o $out/bin/hello ${source}
      $out/bin/hello
    '';
  };
}
`, toolchain, marker))

	// Without a hash the pull fails and tells it.
	writeToolchain(host+"/nixl-test/debian-gcc", digest, "")
	code, _, errOut := build("--no-link", "-A", "hello", probe)
	m := regexp.MustCompile(`got: +(sha256-[A-Za-z0-9+/=]+)`).FindStringSubmatch(errOut)
	if code == 0 || m == nil {
		t.Fatalf("pull without a hash: exit %d\n%s", code, errOut)
	}
	hash := m[1]
	writeToolchain(host+"/nixl-test/debian-gcc", digest, hash)
	t0 = time.Now()
	hello, errOut := mustBuild("--no-link", "-A", "hello", probe)
	buildTime := time.Since(t0)
	for _, want := range []string{"image-", "rootfs-", "hello.drv"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the build did not build %s:\n%s", want, errOut)
		}
	}
	got, err := exec.Command(filepath.Join(hello, "bin", "hello")).CombinedOutput()
	if err != nil || !regexp.MustCompile(`^hello from gcc \d+\.\d+ in the image\n$`).Match(got) {
		t.Fatalf("running the program on the host: %q %v", got, err)
	}
	logOut := nixlLog(t, b, hello)
	for _, want := range []string{"running in debian", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "hello from gcc"} {
		if !strings.Contains(logOut, want) {
			t.Errorf("the build log lacks %q:\n%s", want, logOut)
		}
	}
	if strings.Contains(logOut, "FAIL") {
		t.Errorf("build log:\n%s", logOut)
	}
	t.Logf("pull, unpack and compile: %v", buildTime.Round(time.Millisecond))

	// A second build does nothing.
	code, _, errOut = build("--no-link", "-A", "hello", probe)
	if code != 0 || strings.Contains(errOut, "will be built") || strings.Contains(errOut, "building") {
		t.Errorf("the second build was not a no-op: exit %d\n%s", code, errOut)
	}

	// The root file system's path depends on the digest alone: another
	// repository with the same digest gives the same path, which is
	// valid already.
	rootfs := evalOutPath(t, b, fmt.Sprintf("(import %s).rootfs", probe))
	writeToolchain(host+"/mirror/other-name", digest, hash)
	if other := evalOutPath(t, b, fmt.Sprintf("(import %s).rootfs", probe)); other != rootfs {
		t.Errorf("the root file system of the same digest from another repository is %s, not %s", other, rootfs)
	}
	if code, _, _ := b.nixl(t, "store", "path-info", rootfs); code != 0 {
		t.Errorf("%s is not valid", rootfs)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "usr", "bin", "gcc")); err != nil {
		t.Errorf("the root file system lacks gcc: %v", err)
	}

	// A wrong digest fails, and registers neither the image nor its
	// root file system.
	writeToolchain(host+"/nixl-test/debian-gcc", "sha256:"+strings.Repeat("0", 64), hash)
	for _, attr := range []string{"toolchain", "hello"} {
		if code, _, errOut := build("--no-link", "-A", attr, probe); code == 0 {
			t.Errorf("building %s of a wrong digest succeeded:\n%s", attr, errOut)
		}
	}
	for _, attr := range []string{"toolchain", "rootfs", "hello", "rootfs.image"} {
		p := evalOutPath(t, b, fmt.Sprintf("(import %s).%s", probe, attr))
		if code, _, _ := b.nixl(t, "store", "path-info", p); code == 0 {
			t.Errorf("%s (%s) is valid after a failed pull", attr, p)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s (%s) exists after a failed pull", attr, p)
		}
	}

	// The multi-stage example, with this image as its toolchain.
	writeToolchain(host+"/nixl-test/debian-gcc", digest, hash)
	final, _ := mustBuild("--no-link", "-A", "image", "--arg", "toolchain", "import "+toolchain, multistageExample)
	program, _ := mustBuild("--no-link", "-A", "program", "--arg", "toolchain", "import "+toolchain, multistageExample)
	fin, err := image.Inspect(final)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range fin.Images[0].Layers {
		paths = append(paths, l.StorePaths...)
	}
	if len(paths) != 1 || paths[0] != program {
		t.Errorf("the final image holds %v, want only %s", paths, program)
	}
	got, err = exec.Command(filepath.Join(program, "bin", "hello")).CombinedOutput()
	if err != nil || string(got) != "Hello from a static program built in an image!\n" {
		t.Errorf("the example's program: %q %v", got, err)
	}
	t.Logf("total: %v", time.Since(start).Round(time.Millisecond))
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// evalOutPath evaluates expr (a derivation or a string) to a store path (nixl eval has no
// --state-dir flag: the store comes from the environment).
func evalOutPath(t *testing.T, b buildEnv, expr string) string {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "eval", "--raw", "-E", "toString ("+expr+")")
	cmd.Env = append(os.Environ(), "NIXL_TEST_AS_CLI=1", "NIXL_STORE_DIR="+b.store, "NIXL_STATE_DIR="+b.state)
	out, err := cmd.CombinedOutput()
	p := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(p, b.store+"/") {
		t.Fatalf("eval %s: %q %v", expr, out, err)
	}
	return p
}

func nixlLog(t *testing.T, b buildEnv, path string) string {
	t.Helper()
	code, out, errOut := b.nixl(t, "log", path)
	if code != 0 {
		t.Fatalf("nixl log %s: %s", path, errOut)
	}
	return out
}

// aptSource finds the Debian mirror and suite of the host's apt sources
// (/etc/apt/sources.list, or the deb822 files of sources.list.d): the
// first "deb" entry with an http(s) URI whose suite is a release (not
// -updates or -security).
func aptSource(t *testing.T) (mirror, suite string) {
	t.Helper()
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append(append([]string{"/etc/apt/sources.list"}, lists...), files...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if strings.HasSuffix(f, ".sources") {
			for _, stanza := range strings.Split(string(data), "\n\n") {
				fields := map[string]string{}
				for _, line := range strings.Split(stanza, "\n") {
					if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
						fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
					}
				}
				if !strings.Contains(" "+fields["Types"]+" ", " deb ") {
					continue
				}
				for _, uri := range strings.Fields(fields["URIs"]) {
					for _, s := range strings.Fields(fields["Suites"]) {
						if strings.HasPrefix(uri, "http") && !strings.Contains(s, "-") && !strings.Contains(uri, "security") {
							return uri, s
						}
					}
				}
			}
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "deb" {
				uri, s := f[1], f[2]
				if strings.HasPrefix(f[1], "[") { // deb [options] uri suite
					for i := 1; i < len(f); i++ {
						if strings.HasSuffix(f[i], "]") && i+2 < len(f) {
							uri, s = f[i+1], f[i+2]
							break
						}
					}
				}
				if strings.HasPrefix(uri, "http") && !strings.Contains(s, "-") && !strings.Contains(uri, "security") {
					return uri, s
				}
			}
		}
	}
	t.Skip("SKIPPED: no Debian mirror in the apt sources (/etc/apt/sources.list, sources.list.d)")
	return "", ""
}

// testCacheDir is where slow test inputs are kept across runs, outside
// the repository: $XDG_CACHE_HOME/nixl-test, else /var/cache/nixl-test
// when writable, else ~/.cache/nixl-test.
func testCacheDir(t *testing.T) string {
	t.Helper()
	var dirs []string
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "nixl-test"))
	}
	dirs = append(dirs, "/var/cache/nixl-test")
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "nixl-test"))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err == nil {
			if f, err := os.CreateTemp(d, ".probe-"); err == nil {
				f.Close()
				os.Remove(f.Name())
				return d
			}
		}
	}
	t.Skip("SKIPPED: no writable cache directory for the debootstrap tarball")
	return ""
}

// debootstrapTarball returns a gzipped tar of a minimal Debian (the
// host's release and architecture) with gcc and libc6-dev, made by
// debootstrap --variant=minbase once and cached by suite and
// architecture.
func debootstrapTarball(t *testing.T) string {
	t.Helper()
	mirror, suite := aptSource(t)
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "i386", "riscv64": "riscv64", "ppc64le": "ppc64el", "s390x": "s390x"}[runtime.GOARCH]
	cached := filepath.Join(testCacheDir(t), fmt.Sprintf("debootstrap-%s-%s-minbase-gcc.tar.gz", suite, arch))
	if _, err := os.Stat(cached); err == nil {
		return cached
	}
	debootstrap, err := exec.LookPath("debootstrap")
	if err != nil {
		for _, p := range []string{"/usr/sbin/debootstrap", "/sbin/debootstrap"} {
			if _, err := os.Stat(p); err == nil {
				debootstrap = p
			}
		}
	}
	if debootstrap == "" {
		t.Skip("SKIPPED: debootstrap is not installed (apt-get install -y debootstrap)")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: debootstrap needs root (or a cached " + cached + ")")
	}
	work, err := os.MkdirTemp(filepath.Dir(cached), "debootstrap-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	t0 := time.Now()
	cmd := exec.Command(debootstrap, "--variant=minbase", "--include=gcc,libc6-dev", "--arch="+arch, suite, root, mirror)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("debootstrap: %v\n%s", err, out.String())
	}
	t.Logf("debootstrap %s %s from %s: %v", suite, arch, mirror, time.Since(t0).Round(time.Second))
	// As Docker's Debian images: no package caches or lists.
	for _, pattern := range []string{"var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*_*"} {
		matches, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, m := range matches {
			os.Remove(m)
		}
	}
	tmp := cached + ".tmp"
	tarCmd := exec.Command("tar", "--numeric-owner", "-C", root, "-czf", tmp, ".")
	if out, err := tarCmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, cached); err != nil {
		t.Fatal(err)
	}
	return cached
}

// writeDockerArchive writes a Docker archive (docker save) of two
// layers: the root file system tarball, and a layer of whiteouts (of
// /etc/issue, and an opaque /usr/share/doc), a device node and a file.
// The configuration sets an Env variable that builds must see.
func writeDockerArchive(t *testing.T, archive, rootfsTar string) {
	t.Helper()
	diffID := func(r io.Reader) string {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	// The diff_id of the big layer is cached beside it.
	idFile := rootfsTar + ".diffid"
	id1, err := os.ReadFile(idFile)
	if err != nil {
		f, err := os.Open(rootfsTar)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		id1 = []byte(diffID(zr))
		f.Close()
		os.WriteFile(idFile, id1, 0o644)
	}
	var l2 bytes.Buffer
	tw := tar.NewWriter(&l2)
	for _, h := range []*tar.Header{
		{Name: "etc/.wh.issue", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "usr/share/doc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "usr/share/doc/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "usr/share/doc/README.nixl", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
		{Name: "dev/nixl-device", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("nixl\n"))
		}
	}
	tw.Close()
	id2 := diffID(bytes.NewReader(l2.Bytes()))
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NIXL_IMAGE_ENV=from-the-image"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{string(id1), id2}},
	})
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"debian-gcc:test"}, "Layers": []string{"rootfs.tar.gz", "whiteouts.tar"}}})

	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	aw := tar.NewWriter(f)
	add := func(name string, size int64, r io.Reader) {
		if err := aw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(aw, r); err != nil {
			t.Fatal(err)
		}
	}
	add("manifest.json", int64(len(manifest)), bytes.NewReader(manifest))
	add("config.json", int64(len(config)), bytes.NewReader(config))
	rf, err := os.Open(rootfsTar)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	st, _ := rf.Stat()
	add("rootfs.tar.gz", st.Size(), rf)
	add("whiteouts.tar", int64(l2.Len()), bytes.NewReader(l2.Bytes()))
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
}
