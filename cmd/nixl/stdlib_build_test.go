package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stdlibBuildFile builds each of the standard library's builders once.
const stdlibBuildFile = `
let
  nixl = import <nixl> { };
  inherit (nixl) lib;
  hello = nixl.writeShellScriptBin "hello" "echo hello from nixl";
  src = nixl.runCommand "src" { } ''
    mkdir -p $out/sub
    echo data > $out/sub/file.txt
    printf 'all:\n\techo made > made.txt\n' > $out/Makefile
  '';
in
{
  toolbox = nixl.toolbox;
  text = nixl.writeText "text" "some text\n";
  textDir = nixl.writeTextDir "share/doc/readme" "read me";
  inherit hello;
  runCommand = nixl.runCommand "rc" { greeting = "hi"; } ''echo "$greeting" > $out'';
  join = nixl.symlinkJoin { name = "join"; paths = [ hello (nixl.writeTextDir "share/x" "x") ]; postBuild = "echo post > $out/post"; };
  farm = nixl.linkFarm "farm" { "bin/hello" = "${hello}/bin/hello"; "docs/text" = nixl.writeText "t" "t"; };
  phases = nixl.mkDerivation {
    pname = "phases";
    version = "1";
    inherit src;
    buildInputs = [ hello ];
    configurePhase = "echo configured > configured.txt";
    buildPhase = "hello > built.txt";
    doCheck = true;
    checkPhase = "grep -q 'hello from nixl' built.txt";
    postInstall = "echo post > $out/post.txt";
    installPhase = "mkdir -p $out && cp configured.txt built.txt sub/file.txt $out/";
  };
}
`

// TestStdlibBuild builds the standard library's builders and the app
// example with nixl build. It needs the realiser (the build command)
// and a static busybox on the host (Debian: busybox-static).
func TestStdlibBuild(t *testing.T) {
	haveBuild := false
	for _, cmd := range commands {
		if cmd.name == "build" {
			haveBuild = true
		}
	}
	if !haveBuild {
		t.Skip("SKIPPED: the standard library's build tests need `nixl build`, which is not there yet")
	}
	if !stdlibFileExists("/usr/bin/busybox") && !stdlibFileExists("/bin/busybox") {
		t.Skip("SKIPPED: the standard library's build tests need a static busybox at /usr/bin/busybox or /bin/busybox (apt-get install busybox-static)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	store, state := filepath.Join(dir, "store"), filepath.Join(dir, "state")
	file := filepath.Join(dir, "builders.nixl")
	if err := os.WriteFile(file, []byte(stdlibBuildFile), 0o644); err != nil {
		t.Fatal(err)
	}
	sandbox := []string{}
	build := func(t *testing.T, args ...string) string {
		t.Helper()
		run := func() (int, string, string) {
			var stdout, stderr bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
			all := append([]string{"build", "--store-dir", store, "--state-dir", state, "--no-link"}, sandbox...)
			code := c.main(append(all, args...))
			return code, stdout.String(), stderr.String()
		}
		code, out, errOut := run()
		if code != 0 && len(sandbox) == 0 && strings.Contains(errOut, "sandbox") {
			t.Logf("building without the sandbox: %s", errOut)
			sandbox = []string{"--sandbox", "off"}
			code, out, errOut = run()
		}
		if code != 0 {
			t.Fatalf("nixl build %v failed:\n%s", args, errOut)
		}
		lines := strings.Fields(out)
		if len(lines) == 0 {
			t.Fatalf("nixl build %v printed no path", args)
		}
		return lines[len(lines)-1]
	}
	read := func(t *testing.T, p string) string {
		t.Helper()
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	t.Run("toolbox", func(t *testing.T) {
		out := build(t, "-A", "toolbox", file)
		for _, applet := range []string{"sh", "ls", "tar", "mkdir", "sed"} {
			if target, err := os.Readlink(filepath.Join(out, "bin", applet)); err != nil || target != "busybox" {
				t.Errorf("bin/%s: %q %v", applet, target, err)
			}
		}
	})
	t.Run("writeText", func(t *testing.T) {
		if got := read(t, build(t, "-A", "text", file)); got != "some text\n" {
			t.Errorf("got %q", got)
		}
		if got := read(t, build(t, "-A", "textDir", file)+"/share/doc/readme"); got != "read me" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("writeShellScriptBin", func(t *testing.T) {
		out := build(t, "-A", "hello", file)
		got, err := exec.Command(filepath.Join(out, "bin", "hello")).Output()
		if err != nil || string(got) != "hello from nixl\n" {
			t.Errorf("bin/hello: %q %v", got, err)
		}
	})
	t.Run("runCommand", func(t *testing.T) {
		if got := read(t, build(t, "-A", "runCommand", file)); got != "hi\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("symlinkJoin", func(t *testing.T) {
		out := build(t, "-A", "join", file)
		for _, p := range []string{"bin/hello", "share/x", "post"} {
			if !stdlibFileExists(filepath.Join(out, p)) {
				t.Errorf("%s is missing", p)
			}
		}
		if fi, err := os.Lstat(filepath.Join(out, "bin/hello")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("bin/hello is not a symlink")
		}
	})
	t.Run("linkFarm", func(t *testing.T) {
		out := build(t, "-A", "farm", file)
		if got := read(t, filepath.Join(out, "docs/text")); got != "t" {
			t.Errorf("docs/text: %q", got)
		}
	})
	t.Run("mkDerivation", func(t *testing.T) {
		out := build(t, "-A", "phases", file)
		for p, want := range map[string]string{"configured.txt": "configured\n", "built.txt": "hello from nixl\n", "file.txt": "data\n", "post.txt": "post\n"} {
			if got := read(t, filepath.Join(out, p)); got != want {
				t.Errorf("%s: %q, want %q", p, got, want)
			}
		}
	})
	t.Run("app", func(t *testing.T) {
		app, _ := filepath.Abs("../../testdata/examples/app.nixl")
		out := build(t, app)
		got, err := exec.Command(filepath.Join(out, "bin", "app"), "test").Output()
		if err != nil || !strings.Contains(string(got), "Hello, builder!") || !strings.Contains(string(got), "Hallo, test!") {
			t.Errorf("bin/app: %q %v", got, err)
		}
	})
}

func stdlibFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
