package main

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/nixl-project/nixl/realise/builtinbuild"
	"github.com/nixl-project/nixl/realise/image"
)

var imageExample, _ = filepath.Abs("../../testdata/examples/image.nixl")

// imageBuildEnv is a build environment for the image tests: nixl build
// in process, in the sandbox when the system has one.
type imageBuildEnv struct {
	buildEnv
	sandbox []string
}

func newImageBuildEnv(t *testing.T) *imageBuildEnv {
	if _, ok := builtinbuild.Lookup("builtin:oci-image"); !ok {
		t.Skip("SKIPPED: builtin:oci-image is not registered in realise/builtinbuild yet (see realise/image.Builders)")
	}
	if !stdlibFileExists("/usr/bin/busybox") && !stdlibFileExists("/bin/busybox") {
		t.Skip("SKIPPED: the image tests need a static busybox (apt-get install busybox-static)")
	}
	return &imageBuildEnv{buildEnv: newBuildEnv(t)}
}

// build runs nixl build and returns its output and error output.
func (b *imageBuildEnv) build(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := b.nixl(t, append(append([]string{"build"}, b.sandbox...), args...)...)
	if code != 0 && b.sandbox == nil && strings.Contains(errOut, "sandbox") {
		t.Logf("building without the sandbox: %s", errOut)
		b.sandbox = []string{"--sandbox", "off"}
		code, out, errOut = b.nixl(t, append(append([]string{"build"}, b.sandbox...), args...)...)
	}
	return code, out, errOut
}

func (b *imageBuildEnv) mustBuild(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := b.build(t, args...)
	if code != 0 {
		t.Fatalf("nixl build %v: exit %d\n%s", args, code, errOut)
	}
	lines := strings.Fields(out)
	if len(lines) == 0 {
		t.Fatalf("nixl build %v printed nothing", args)
	}
	return lines[len(lines)-1]
}

func topDigest(t *testing.T, layout string) string {
	t.Helper()
	in, err := image.Inspect(layout)
	if err != nil {
		t.Fatal(err)
	}
	return in.Top.Digest
}

// TestImageEndToEnd builds the example image with nixl build, runs it,
// rebuilds it in a wiped store, pushes it, pulls it back with
// image.pull and builds on it.
func TestImageEndToEnd(t *testing.T) {
	b := newImageBuildEnv(t)
	out := b.mustBuild(t, "--no-link", "-A", "image", imageExample)
	in, err := image.Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "nixl-hello" || in.Tag != "1.0" || len(in.Images) != 1 {
		t.Fatalf("inspect: %+v", in)
	}
	img := in.Images[0]
	var storePaths []string
	for _, l := range img.Layers {
		storePaths = append(storePaths, l.StorePaths...)
	}
	if len(storePaths) < 2 || img.Layers[len(img.Layers)-1].Kind != "customisation" {
		t.Fatalf("layers %+v", img.Layers)
	}
	digest := in.Top.Digest

	t.Run("run", func(t *testing.T) {
		umoci, err := exec.LookPath("umoci")
		if err != nil {
			t.Skip("umoci is not installed")
		}
		bundle := filepath.Join(t.TempDir(), "bundle")
		if out, err := exec.Command(umoci, "unpack", "--rootless", "--image", out+":1.0", bundle).CombinedOutput(); err != nil {
			t.Fatalf("umoci unpack: %v\n%s", err, out)
		}
		for _, p := range storePaths {
			if _, err := os.Stat(filepath.Join(bundle, "rootfs", p)); err != nil {
				t.Errorf("rootfs lacks %s", p)
			}
		}
		if os.Geteuid() != 0 {
			t.Skip("chroot needs root")
		}
		got, err := exec.Command("chroot", filepath.Join(bundle, "rootfs"), "/bin/hello").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(got), "Hello from a nixl image!") {
			t.Fatalf("chroot /bin/hello: %q %v", got, err)
		}
		filepath.Walk(bundle, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})

	t.Run("wiped store", func(t *testing.T) {
		again := b.mustBuild(t, "--no-link", "-A", "image", imageExample)
		if topDigest(t, again) != digest {
			t.Fatal("a second build changed the digest")
		}
		for _, d := range []string{b.store, b.state} {
			filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.IsDir() {
					os.Chmod(p, 0o755)
				}
				return nil
			})
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
		rebuilt := b.mustBuild(t, "--no-link", "-A", "image", imageExample)
		if rebuilt != out {
			t.Errorf("output path %s, before %s", rebuilt, out)
		}
		if got := topDigest(t, rebuilt); got != digest {
			t.Fatalf("after wiping the store: %s, before %s", got, digest)
		}
	})

	t.Run("index", func(t *testing.T) {
		ix := b.mustBuild(t, "--no-link", "-A", "index", imageExample)
		in, err := image.Inspect(ix)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Images) != 2 || in.Images[0].Platform.String() != "linux/amd64" || in.Images[1].Platform.String() != "linux/arm64/v8" {
			t.Fatalf("index: %+v", in)
		}
	})

	t.Run("push and pull", func(t *testing.T) {
		srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		if code, _, errOut := runImage(t, "push", out, host+"/e2e/hello:1.0"); code != 0 {
			t.Fatalf("push: %s", errOut)
		}
		file := filepath.Join(b.dir, "pull.nixl")
		write := func(ref, digest, hash string) {
			hashAttr := ""
			if hash != "" {
				hashAttr = fmt.Sprintf("hash = %q;", hash)
			}
			expr := fmt.Sprintf(`let
  nixl = import <nixl> { };
  base = nixl.image.pull { ref = %q; digest = %q; %s };
in {
  inherit base;
  derived = nixl.image.build { name = "derived"; fromImage = base; extraFiles."/etc/motd" = "hi\n"; config.Cmd = [ "/bin/hello" ]; };
}
`, ref, digest, hashAttr)
			if err := os.WriteFile(file, []byte(expr), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Without a hash, the failure tells it.
		write(host+"/e2e/hello", digest, "")
		code, _, errOut := b.build(t, "--no-link", "-A", "base", file)
		m := regexp.MustCompile(`got: +(sha256-[A-Za-z0-9+/=]+)`).FindStringSubmatch(errOut)
		if code == 0 || m == nil {
			t.Fatalf("pull without a hash: exit %d\n%s", code, errOut)
		}
		write(host+"/e2e/hello", digest, m[1])
		pulled := b.mustBuild(t, "--no-link", "-A", "base", file)
		if got := topDigest(t, pulled); got != digest {
			t.Fatalf("pulled %s, pushed %s", got, digest)
		}
		derived := b.mustBuild(t, "--no-link", "-A", "derived", file)
		din, err := image.Inspect(derived)
		if err != nil {
			t.Fatal(err)
		}
		layers := din.Images[0].Layers
		if len(layers) != len(img.Layers)+1 || layers[0].Kind != "base" || layers[len(layers)-1].Kind != "customisation" {
			t.Fatalf("derived layers %+v", layers)
		}
		for i := range img.Layers {
			if layers[i].Digest != img.Layers[i].Digest {
				t.Errorf("base layer %d: %s, want %s", i, layers[i].Digest, img.Layers[i].Digest)
			}
		}
		if c := din.Images[0].Config; len(c.Entrypoint) != 1 || len(c.Cmd) != 1 || c.WorkingDir != "/tmp" {
			t.Errorf("derived config %+v", c)
		}

		// A wrong digest fails and registers nothing.
		wrong := "sha256:" + strings.Repeat("0", 64)
		write(host+"/e2e/other", wrong, m[1])
		code, _, errOut = b.build(t, "--no-link", "-A", "base", file)
		if code == 0 {
			t.Fatal("pulling a wrong digest succeeded")
		}
		// (eval is run with the store in the environment: it has no
		// --state-dir flag.)
		exe, _ := os.Executable()
		cmd := exec.Command(exe, "eval", "--raw", "-E", fmt.Sprintf("(import %s).base.outPath", file))
		cmd.Env = append(os.Environ(), "NIXL_TEST_AS_CLI=1", "NIXL_STORE_DIR="+b.store, "NIXL_STATE_DIR="+b.state)
		pathOut, err := cmd.CombinedOutput()
		p := strings.TrimSpace(string(pathOut))
		if err != nil || !strings.HasPrefix(p, b.store) {
			t.Fatalf("eval outPath: %q %v", pathOut, err)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists after a failed pull", p)
		}
		if code, _, _ := b.nixl(t, "store", "path-info", p); code == 0 {
			t.Errorf("%s is valid after a failed pull", p)
		}
	})
}
