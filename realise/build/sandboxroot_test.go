package build

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/sandbox"
	"github.com/nixl-project/nixl/realise/store/local"
)

// addRootFS adds a small root file system to the store: a static
// busybox as /usr/bin/sh (with /bin → usr/bin, as merged-/usr
// distributions have it), /etc/os-release and an image-only /etc/passwd
// entry.
func addRootFS(t *testing.T, s *local.Store) string {
	t.Helper()
	var busybox string
	for _, p := range sandbox.DefaultPaths() {
		if _, src, ok := strings.Cut(p, "="); ok && strings.Contains(src, "busybox") {
			busybox = src
		}
	}
	if busybox == "" {
		for _, p := range []string{"/usr/bin/busybox", "/bin/busybox"} {
			if _, err := os.Stat(p); err == nil {
				busybox = p
			}
		}
	}
	if busybox == "" {
		t.Skip("SKIPPED: no static busybox (apt-get install busybox-static)")
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"usr/bin/busybox": string(data),
		"etc/os-release":  "ID=testimage\n",
		"etc/passwd":      "root:x:0:0:image root:/root:/bin/sh\nimageuser:x:5:5::/:/bin/sh\n",
		"srv/data":        "served\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("busybox", filepath.Join(dir, "usr/bin/sh"))
	os.Symlink("usr/bin", filepath.Join(dir, "bin"))
	p, err := s.AddPath("rootfs", dir, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSandboxRoot builds in a root file system of the store: the
// builder is the image's /bin/sh, sees the image's files, Nix's
// /etc/passwd with the image's other entries, the input closure and its
// outputs, and cannot write to "/".
func TestSandboxRoot(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	rootFS := addRootFS(t, s)
	dep := mkDrv(t, s, drvSpec{name: "dep", builder: "/bin/sh", args: []string{"-c", `echo dep > $out`}})
	script := `
		read id < /etc/os-release; echo "$id"
		grep -q '^nixbld:x:1000:100:' /etc/passwd && grep -q '^imageuser:' /etc/passwd && echo passwd-ok
		grep -q 'image root' /etc/passwd && echo image-root-kept
		cat /srv/data $dep000
		touch /x 2>/dev/null && echo root-writable
		touch /srv/x 2>/dev/null && echo srv-writable
		[ -e /usr/bin/busybox ] && echo busybox-ok
		[ -e ` + string(s.StoreDir()) + `/../var ] && echo state-visible
		mkdir -p $out/bin && echo "$PATH $HOME $PWD $sandboxRoot" > $out/env && ls / > $out/root`
	drv := mkDrv(t, s, drvSpec{name: "inimage", builder: "/bin/sh", args: []string{"-c", script}, inputs: []string{dep}, srcs: []string{rootFS},
		env: map[string]string{"sandboxRoot": rootFS}})
	var lines []string
	res := mustBuild(t, s, Options{Reporter: funcReporter{line: func(_, l string) { lines = append(lines, l) }}}, drv)
	log := strings.Join(lines, "\n")
	for _, want := range []string{"ID=testimage", "passwd-ok", "served", "dep", "busybox-ok"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, bad := range []string{"image-root-kept", "root-writable", "srv-writable", "state-visible"} {
		if strings.Contains(log, bad) {
			t.Errorf("log has %q:\n%s", bad, log)
		}
	}
	out := res[0]["out"]
	env, err := os.ReadFile(filepath.Join(out, "env"))
	if err != nil || string(env) != "/path-not-set /homeless-shelter /build "+rootFS+"\n" {
		t.Errorf("env: %q %v", env, err)
	}
	root, _ := os.ReadFile(filepath.Join(out, "root"))
	if got := strings.Fields(string(root)); strings.Join(got, " ") != "bin build dev etc proc srv tmp usr" {
		t.Errorf("/ holds %v", got)
	}
	// The output refers to the root file system (its path is in env).
	refs, err := s.QueryReferences(out)
	if err != nil || len(refs) != 1 || refs[0] != rootFS {
		t.Errorf("references %v %v", refs, err)
	}
}

// TestSandboxRootErrors: the root must be an input, a directory, and the
// build must be sandboxed.
func TestSandboxRootErrors(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	rootFS := addRootFS(t, s)
	file, err := s.AddText("file", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		root    string
		srcs    []string
		mode    SandboxMode
		builder string
		want    string
	}{
		{"not-input", rootFS, nil, SandboxOn, "", "is not in the derivation's input closure"},
		{"relative", "rootfs", nil, SandboxOn, "", "is not an absolute path"},
		{"outside", "/usr", nil, SandboxOn, "", "is not in the store"},
		{"file", file, []string{file}, SandboxOn, "", "is not a directory"},
		{"missing", rootFS + "/nope", []string{rootFS}, SandboxOn, "", "cannot be read"},
		{"off", rootFS, []string{rootFS}, SandboxOff, "", "without the sandbox"},
		{"builtin", rootFS, []string{rootFS}, SandboxOn, "builtin:fetchurl", "a builtin builder does not run in a sandboxRoot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			drv := mkDrv(t, s, drvSpec{name: c.name, builder: c.builder, args: []string{"-c", "echo > $out"}, srcs: c.srcs,
				env: map[string]string{"sandboxRoot": c.root}})
			_, err := build(t, s, Options{Sandbox: c.mode}, drv)
			var be *Error
			if !errors.As(err, &be) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestSandboxRootFixedOutput: a fixed-output derivation in a root file
// system sees the host's resolv.conf (it shares the host's network),
// mounted in the image's /etc.
func TestSandboxRootFixedOutput(t *testing.T) {
	needSandbox(t)
	if _, err := os.Stat("/etc/resolv.conf"); err != nil {
		t.Skip("SKIPPED: the host has no /etc/resolv.conf")
	}
	s := testStore(t)
	rootFS := addRootFS(t, s)
	h := nixhash.SumString(nixhash.SHA256, "fixed\n")
	drv := mkDrv(t, s, drvSpec{name: "fod-in-image", hashAlgo: "sha256", hash: h.Base16(), srcs: []string{rootFS},
		env:  map[string]string{"sandboxRoot": rootFS},
		args: []string{"-c", `[ -s /etc/resolv.conf ] && echo resolv-ok; read id < /etc/os-release; echo "$id"; echo fixed > $out`}})
	var lines []string
	res := mustBuild(t, s, Options{Reporter: funcReporter{line: func(_, l string) { lines = append(lines, l) }}}, drv)
	log := strings.Join(lines, "\n")
	if !strings.Contains(log, "resolv-ok") || !strings.Contains(log, "ID=testimage") {
		t.Errorf("log:\n%s", log)
	}
	if data, _ := os.ReadFile(res[0]["out"]); string(data) != "fixed\n" {
		t.Errorf("output %q", data)
	}
}

// TestSandboxRootStructured: sandboxRoot is read from __structuredAttrs.
func TestSandboxRootStructured(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	rootFS := addRootFS(t, s)
	js := `{"sandboxRoot":"` + rootFS + `","name":"structured","system":"` + HostSystem() + `","builder":"/bin/sh"}`
	drv := mkDrv(t, s, drvSpec{name: "structured", srcs: []string{rootFS}, env: map[string]string{"__json": js},
		args: []string{"-c", `out=$(sed -n 's/.*"out":"\([^"]*\)".*/\1/p' "$NIX_ATTRS_JSON_FILE"); cat /etc/os-release > "$out"`}})
	res := mustBuild(t, s, Options{}, drv)
	if data, _ := os.ReadFile(res[0]["out"]); string(data) != "ID=testimage\n" {
		t.Errorf("output %q", data)
	}
}
