package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staticBusybox returns a static busybox or skips the test.
func staticBusybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		if isStaticELF(p) {
			return p
		}
	}
	t.Skip("SKIPPED: the root file system tests need a static busybox (apt-get install busybox-static)")
	return ""
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// TestSandboxRootFS runs a builder in a root file system of its own: the
// image's tree read-only as "/", Root's files over it, the store
// directory writable with the image's own store paths visible in it, the
// inputs and the build directory mounted, nothing of the host.
func TestSandboxRootFS(t *testing.T) {
	if err := Check(); err != nil {
		t.Skip(err)
	}
	busybox := staticBusybox(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	rootFS := filepath.Join(dir, "rootfs")
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(rootFS, "usr/bin/busybox"), string(data), 0o555)
	if err := os.Symlink("busybox", filepath.Join(rootFS, "usr/bin/sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(rootFS, "bin")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(rootFS, "etc/os-release"), "ID=image\n", 0o444)
	writeFile(t, filepath.Join(rootFS, "etc/passwd"), "root:x:0:0:image root:/root:/bin/sh\n", 0o444)
	writeFile(t, filepath.Join(rootFS, "dev/not-a-device"), "image's /dev is not used\n", 0o444)
	writeFile(t, filepath.Join(rootFS, "build/in-image"), "hidden by the build directory\n", 0o444)
	storeDir := filepath.Join(dir, "store")
	writeFile(t, filepath.Join(rootFS, storeDir, "aaaa-in-image/data"), "an image's store path\n", 0o444)
	os.MkdirAll(filepath.Join(rootFS, "tmp"), 0o755)

	// Root holds the files laid over the image; the store directory
	// and the build directory are writable mounts from elsewhere.
	root := filepath.Join(dir, "root")
	writeFile(t, filepath.Join(root, "etc/passwd"), "nixbld:x:1000:100::/build:/noshell\n", 0o444)
	staging := filepath.Join(dir, "staging", storeDir)
	os.MkdirAll(staging, 0o1775)
	input := filepath.Join(storeDir, "bbbb-input")
	writeFile(t, filepath.Join(input, "data"), "an input\n", 0o444)
	build := filepath.Join(dir, "build")
	os.MkdirAll(build, 0o700)
	hostOnly := filepath.Join(dir, "host-only")
	writeFile(t, hostOnly, "host\n", 0o444)

	script := strings.Join([]string{
		`cat /etc/os-release /etc/passwd`,
		`cat ` + storeDir + `/aaaa-in-image/data ` + input + `/data`,
		`mkdir ` + storeDir + `/cccc-out && echo built > ` + storeDir + `/cccc-out/x && echo out-ok`,
		`echo b > /build/b && echo build-ok`,
		`[ -e /build/in-image ] && echo image-build-visible`,
		`[ -e /dev/not-a-device ] && echo image-dev-visible`,
		`[ -e /dev/null ] && echo dev-null-ok`,
		`[ -e ` + hostOnly + ` ] && echo host-visible`,
		`[ -e /home ] && echo host-home-visible`,
		`touch /x 2>/dev/null && echo root-writable`,
		`touch /etc/x 2>/dev/null && echo etc-writable`,
		`touch /usr/x 2>/dev/null && echo usr-writable`,
		`touch ` + storeDir + `/aaaa-in-image/x 2>/dev/null && echo image-store-writable`,
		`read pid rest < /proc/self/stat; echo "pid=$$"`,
		`echo done`,
	}, "\n")
	spec := &Spec{
		Root: root, RootFS: rootFS,
		Mounts: []Mount{
			{Source: staging, Target: storeDir, Writable: true, MergeRootFS: true},
			{Source: build, Target: "/build", Writable: true},
			{Source: input, Target: input},
		},
		Builder: "/bin/sh", Args: []string{"-c", script},
		Env: []string{"PATH=/path-not-set"}, Dir: "/build",
		UID: 1000, GID: 100, Hostname: "localhost",
	}
	var out strings.Builder
	p, err := Start(spec, filepath.Join(dir, "spec.json"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"ID=image", "nixbld:x:1000", "an image's store path", "an input", "out-ok", "build-ok", "dev-null-ok", "pid=1", "done"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"image root", "image-build-visible", "image-dev-visible", "host-visible", "host-home-visible", "root-writable", "etc-writable", "usr-writable", "image-store-writable"} {
		if strings.Contains(got, bad) {
			t.Errorf("output has %q:\n%s", bad, got)
		}
	}
	if data, err := os.ReadFile(filepath.Join(staging, "cccc-out", "x")); err != nil || string(data) != "built\n" {
		t.Errorf("the output was not written to the staging store directory: %q %v", data, err)
	}
	// The image stays untouched.
	if _, err := os.Stat(filepath.Join(rootFS, "build")); err != nil {
		t.Error(err)
	}
	if entries, _ := os.ReadDir(rootFS); len(entries) != 6 {
		t.Errorf("the root file system changed: %v", entries)
	}
}
