package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	MaybeInit()
	os.Exit(m.Run())
}

func run(t *testing.T, paths []string, script string) (string, error) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	build := filepath.Join(dir, "build")
	os.MkdirAll(root, 0o755)
	os.MkdirAll(build, 0o700)
	mounts, err := PathMounts(paths)
	if err != nil {
		t.Fatal(err)
	}
	mounts = append(mounts, Mount{Source: build, Target: "/build", Writable: true})
	spec := &Spec{
		Root: root, Mounts: mounts, Builder: "/bin/sh", Args: []string{"-c", script},
		Env: []string{"PATH=/path-not-set", "HOME=/homeless-shelter"}, Dir: "/build",
		UID: 1000, GID: 100, Hostname: "localhost", DevShmSize: "50%",
	}
	var out strings.Builder
	p, err := Start(spec, filepath.Join(dir, "spec.json"), &out)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait()
	return out.String(), err
}

func TestSandboxShell(t *testing.T) {
	for _, paths := range [][]string{DefaultPaths(), {"/bin/sh"}} {
		out, err := run(t, paths, `read uid rest < /proc/self/status; echo "pid=$$"; read h < /proc/sys/kernel/hostname; echo "host=$h"; echo ok > /build/x; if [ -e /root ]; then echo root-visible; fi; echo done`)
		if err != nil {
			t.Fatalf("%v: %v\n%s", paths, err, out)
		}
		for _, want := range []string{"pid=1", "host=localhost", "done"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", paths, want, out)
			}
		}
		if strings.Contains(out, "root-visible") {
			t.Errorf("/root is visible in the sandbox")
		}
	}
}

func TestSandboxSetupError(t *testing.T) {
	_, err := run(t, []string{"/bin/sh", "/nonexistent-dir=/nonexistent-dir?"}, "exit 0")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	spec := &Spec{Root: dir, Builder: "/no/such/builder", Dir: "/", UID: 1000, GID: 100}
	p, err := Start(spec, filepath.Join(t.TempDir(), "spec.json"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait()
	if _, ok := err.(*SetupError); !ok || !strings.Contains(err.Error(), "/no/such/builder") {
		t.Fatalf("want a setup error naming the builder, got %v", err)
	}
}
