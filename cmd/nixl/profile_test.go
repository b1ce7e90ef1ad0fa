package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/realise/profile"
	"github.com/nixl-project/nixl/realise/store/local"
)

// writePackages writes pkgs.nix: packages made by builtin:buildenv from
// source directories holding bin/NAME scripts, so that they build
// anywhere, without a sandbox or tools. hello's version is helloVersion
// by default and 2.0 with --argstr v 2.
func writePackages(t *testing.T, dir, helloVersion string) string {
	t.Helper()
	script := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+text+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script("src-"+helloVersion+"/bin/hello", "hello "+helloVersion)
	script("src-2.0/bin/hello", "hello 2.0")
	script("tool/bin/tool", "tool 0.1")
	file := filepath.Join(dir, "pkgs.nix")
	src := fmt.Sprintf(`{ v ? "default" }:
let
  mk = name: src: derivation { inherit name src; system = "builtin"; builder = "builtin:buildenv"; paths = src; };
in {
  hello = if v == "2" then mk "hello-2.0" ./src-2.0 else mk "hello-%[1]s" ./src-%[1]s;
  tool = mk "tool-0.1" ./tool;
  broken = derivation { name = "broken-1"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "exit 1" ]; };
}
`, helloVersion)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// run runs a program and returns its output.
func runProgram(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
	return string(out)
}

func (b buildEnv) mustNixl(t *testing.T, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := b.nixl(t, args...)
	if code != 0 {
		t.Fatalf("nixl %v: exit %d\n%s", args, code, errOut)
	}
	return out, errOut
}

// manifestOf is the manifest of the current generation, as list --json
// prints it.
func (b buildEnv) manifestOf(t *testing.T) profile.Manifest {
	t.Helper()
	out, _ := b.mustNixl(t, "profile", "list", "--json")
	var m profile.Manifest
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	return m
}

// TestProfileCLI installs, upgrades, rolls back, switches, removes and
// wipes history, and checks that the garbage collector keeps exactly the
// closures of the generations left.
func TestProfileCLI(t *testing.T) {
	b := newBuildEnv(t)
	file := writePackages(t, b.dir, "1.0")
	prof := filepath.Join(b.state, "profiles", "profile")
	hello := filepath.Join(prof, "bin", "hello")

	// Generation 1: hello 1.0.
	_, errOut := b.mustNixl(t, "profile", "install", file, "-A", "hello", "--sandbox=off")
	if !strings.Contains(errOut, "installing 'hello-1.0'") {
		t.Errorf("install: %s", errOut)
	}
	if got := runProgram(t, hello); got != "hello 1.0\n" {
		t.Errorf("hello printed %q", got)
	}
	m := b.manifestOf(t)
	if len(m.Elements) != 1 || m.Elements[0].Name != "hello" || m.Elements[0].Version != "1.0" || m.Elements[0].AttrPath != "hello" ||
		m.Elements[0].Source != file || !slices.Equal(m.Elements[0].Outputs, []string{"out"}) || !strings.HasSuffix(m.Elements[0].StorePaths[0], "-hello-1.0") {
		t.Fatalf("manifest %+v", m)
	}
	hello1 := m.Elements[0].StorePaths[0]
	out, _ := b.mustNixl(t, "profile", "list")
	if want := fmt.Sprintf("hello-1.0  hello  %s  %s\n", file, hello1); out != want {
		t.Errorf("list:\n%q\nwant\n%q", out, want)
	}

	// Generation 2: installing hello again upgrades it.
	_, errOut = b.mustNixl(t, "profile", "install", file, "-A", "hello", "--argstr", "v", "2", "--sandbox=off")
	if !strings.Contains(errOut, "upgrading 'hello-1.0' to 'hello-2.0'") {
		t.Errorf("upgrade: %s", errOut)
	}
	if got := runProgram(t, hello); got != "hello 2.0\n" {
		t.Errorf("hello printed %q", got)
	}
	if m := b.manifestOf(t); len(m.Elements) != 1 || m.Elements[0].Version != "2.0" {
		t.Errorf("manifest after upgrade %+v", m)
	}

	// Generation 3: and tool.
	b.mustNixl(t, "profile", "install", file, "-A", "tool", "--sandbox=off")
	if got := runProgram(t, filepath.Join(prof, "bin", "tool")); got != "tool 0.1\n" {
		t.Errorf("tool printed %q", got)
	}
	// Installing what is installed makes no new generation.
	b.mustNixl(t, "profile", "install", file, "-A", "tool", "--sandbox=off")
	if _, err := os.Lstat(prof + "-4-link"); err == nil {
		t.Error("a generation without changes")
	}

	out, _ = b.mustNixl(t, "profile", "history")
	historyRE := regexp.MustCompile(`^Version 1 \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\):
  hello: ∅ -> 1\.0

Version 2 \([^)]*\) <- 1:
  hello: 1\.0 -> 2\.0

Version 3 \([^)]*\) <- 2 \(current\):
  tool: ∅ -> 0\.1
$`)
	if !historyRE.MatchString(out) {
		t.Errorf("history:\n%s", out)
	}

	// Rollback to 2: no tool.
	_, errOut = b.mustNixl(t, "profile", "rollback")
	if !strings.Contains(errOut, "switching profile from version 3 to 2") {
		t.Errorf("rollback: %s", errOut)
	}
	if target, _ := os.Readlink(prof); target != "profile-2-link" {
		t.Errorf("profile -> %s", target)
	}
	if _, err := os.Stat(filepath.Join(prof, "bin", "tool")); err == nil {
		t.Error("tool still installed after the rollback")
	}
	// switch-generation there and back.
	b.mustNixl(t, "profile", "switch-generation", "3")
	if target, _ := os.Readlink(prof); target != "profile-3-link" {
		t.Errorf("profile -> %s", target)
	}
	b.mustNixl(t, "profile", "switch-generation", "2")
	if code, _, errOut := b.nixl(t, "profile", "switch-generation", "7"); code != 1 || !strings.Contains(errOut, "error: profile version 7 does not exist") {
		t.Errorf("switch to 7: %d %s", code, errOut)
	}
	if code, _, errOut := b.nixl(t, "profile", "switch-generation", "x"); code != 1 || !strings.Contains(errOut, "invalid generation number") {
		t.Errorf("switch to x: %d %s", code, errOut)
	}

	// All three generations are roots.
	gens := map[int]string{}
	for n := 1; n <= 3; n++ {
		target, err := os.Readlink(fmt.Sprintf("%s-%d-link", prof, n))
		if err != nil {
			t.Fatal(err)
		}
		gens[n] = target
	}
	checkGC := func(live, dead []int) {
		t.Helper()
		st, err := local.Open(local.Options{StoreDir: b.store, StateDir: b.state})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		closureOf := func(ns []int) map[string]bool {
			var roots []string
			for _, n := range ns {
				roots = append(roots, gens[n])
			}
			out := map[string]bool{}
			if len(roots) == 0 {
				return out
			}
			c, err := st.Closure(roots)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c {
				out[p] = true
			}
			return out
		}
		liveSet, deadSet := closureOf(live), closureOf(dead)
		if _, err := st.GC(false, 0); err != nil {
			t.Fatal(err)
		}
		for p := range liveSet {
			if ok, _ := st.IsValidPath(p); !ok {
				t.Errorf("live path %s was deleted", p)
			}
		}
		deadOnly := 0
		for p := range deadSet {
			if liveSet[p] {
				continue
			}
			deadOnly++
			if ok, _ := st.IsValidPath(p); ok {
				t.Errorf("dead path %s was kept", p)
			}
		}
		if len(dead) > 0 && deadOnly == 0 {
			t.Errorf("generations %v have no paths of their own", dead)
		}
	}
	checkGC([]int{1, 2, 3}, nil)

	// wipe-history --older-than: generation dates 30, 20 and 10 days ago.
	now := time.Now()
	for n := 1; n <= 3; n++ {
		tm := now.Add(-time.Duration(40-10*n) * 24 * time.Hour)
		tv := unix.NsecToTimeval(tm.UnixNano())
		if err := unix.Lutimes(fmt.Sprintf("%s-%d-link", prof, n), []unix.Timeval{tv, tv}); err != nil {
			t.Fatal(err)
		}
	}
	_, errOut = b.mustNixl(t, "profile", "wipe-history", "--older-than", "15d", "--dry-run")
	if errOut != "would remove profile version 1\n" {
		t.Errorf("wipe-history --older-than 15d --dry-run: %q", errOut)
	}
	if code, _, errOut := b.nixl(t, "profile", "wipe-history", "--older-than", "15"); code != 1 || !strings.Contains(errOut, "expected something like '14d'") {
		t.Errorf("bad age: %d %s", code, errOut)
	}
	_, errOut = b.mustNixl(t, "profile", "wipe-history")
	if errOut != "removing profile version 1\nremoving profile version 3\n" {
		t.Errorf("wipe-history: %q", errOut)
	}
	out, _ = b.mustNixl(t, "profile", "history")
	if !regexp.MustCompile(`^Version 2 \([^)]*\) \(current\):\n  hello: ∅ -> 2\.0\n$`).MatchString(out) {
		t.Errorf("history after wipe:\n%s", out)
	}
	checkGC([]int{2}, []int{1, 3})
	if _, err := os.Lstat(hello1); err == nil {
		t.Errorf("%s (only in generation 1) is still there", hello1)
	}
	if got := runProgram(t, hello); got != "hello 2.0\n" {
		t.Errorf("hello printed %q after GC", got)
	}

	// upgrade re-evaluates the source file: hello is now 3.0 by default.
	writePackages(t, b.dir, "3.0")
	b.mustNixl(t, "profile", "install", file, "-A", "tool", "--sandbox=off")
	_, errOut = b.mustNixl(t, "profile", "upgrade", "hello", "--sandbox=off")
	if !strings.Contains(errOut, "upgrading 'hello-2.0' to 'hello-3.0'") || strings.Contains(errOut, "tool") {
		t.Errorf("upgrade hello: %s", errOut)
	}
	if got := runProgram(t, hello); got != "hello 3.0\n" {
		t.Errorf("hello printed %q after upgrade", got)
	}
	if code, _, errOut := b.nixl(t, "profile", "upgrade", "nothere"); code != 1 || !strings.Contains(errOut, "'nothere' is not installed") {
		t.Errorf("upgrade nothere: %d %s", code, errOut)
	}

	// remove, by name and by attribute path.
	_, errOut = b.mustNixl(t, "profile", "remove", "hello")
	if !strings.Contains(errOut, "uninstalling 'hello-3.0'") {
		t.Errorf("remove: %s", errOut)
	}
	if _, err := os.Stat(hello); err == nil {
		t.Error("hello still installed")
	}
	if m := b.manifestOf(t); len(m.Elements) != 1 || m.Elements[0].Name != "tool" {
		t.Errorf("manifest after remove %+v", m)
	}
	if code, _, errOut := b.nixl(t, "profile", "remove", "hello"); code != 1 || !strings.Contains(errOut, "error: package 'hello' is not installed") {
		t.Errorf("remove again: %d %s", code, errOut)
	}
	b.mustNixl(t, "profile", "remove", "tool")
	if m := b.manifestOf(t); len(m.Elements) != 0 {
		t.Errorf("manifest after removing all %+v", m)
	}
	out, _ = b.mustNixl(t, "profile", "history")
	if !strings.HasSuffix(out, "  tool: 0.1 -> ∅\n") {
		t.Errorf("history after remove:\n%s", out)
	}

	// A failed build installs nothing.
	before, _ := os.Readlink(prof)
	if code, _, errOut := b.nixl(t, "profile", "install", file, "-A", "broken", "--sandbox=off"); code != 1 || !strings.Contains(errOut, "failed with exit code 1") {
		t.Errorf("broken: %d %s", code, errOut)
	}
	// Without -A the file's value is installed: here all of its
	// packages, and the broken one fails.
	if code, _, errOut := b.nixl(t, "profile", "install", file, "--sandbox=off"); code != 1 || !strings.Contains(errOut, "failed with exit code 1") {
		t.Errorf("install of the whole file: %d %s", code, errOut)
	}
	if after, _ := os.Readlink(prof); after != before {
		t.Errorf("profile changed from %s to %s", before, after)
	}
	if code, _, errOut := b.nixl(t, "profile", "frobnicate"); code != 1 || !strings.Contains(errOut, "unknown profile subcommand") {
		t.Errorf("unknown subcommand: %d %s", code, errOut)
	}
}

// TestProfileInstallFile: without -A, a file that is one package is
// installed (as nix-env -i -f FILE), and upgrade re-reads the file.
func TestProfileInstallFile(t *testing.T) {
	b := newBuildEnv(t)
	pkgs := writePackages(t, b.dir, "1.0")
	file := filepath.Join(b.dir, "tool.nix")
	if err := os.WriteFile(file, []byte("(import "+pkgs+" { }).tool\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut := b.mustNixl(t, "profile", "install", file, "--sandbox=off")
	if !strings.Contains(errOut, "installing 'tool-0.1'") {
		t.Errorf("install: %s", errOut)
	}
	if m := b.manifestOf(t); len(m.Elements) != 1 || m.Elements[0].Name != "tool" || m.Elements[0].Source != file {
		t.Errorf("manifest %+v", m)
	}
	_, errOut = b.mustNixl(t, "profile", "upgrade", "--sandbox=off")
	if strings.Contains(errOut, "cannot be upgraded") {
		t.Errorf("upgrade: %s", errOut)
	}
}

// TestProfileElsewhere: --profile puts the profile anywhere; its
// generations are indirect roots.
func TestProfileElsewhere(t *testing.T) {
	b := newBuildEnv(t)
	file := writePackages(t, b.dir, "1.0")
	prof := filepath.Join(b.dir, "my", "profile")
	b.mustNixl(t, "profile", "install", file, "-A", "tool", "--sandbox=off", "--profile", prof)
	if got := runProgram(t, filepath.Join(prof, "bin", "tool")); got != "tool 0.1\n" {
		t.Errorf("tool printed %q", got)
	}
	out, _ := b.mustNixl(t, "store", "roots")
	if !strings.Contains(out, prof+"-1-link -> ") {
		t.Errorf("roots:\n%s", out)
	}
	if _, err := os.Lstat(filepath.Join(b.state, "profiles", "profile")); err == nil {
		t.Error("the default profile was created")
	}
}
