package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPureEvalBuild builds under --pure-eval: the file's directory is
// readable, and so are the store paths the evaluation holds through
// string contexts (a copied source, the output of a derivation imported
// from, which is built first); a path out of the directory is refused
// before anything is built.
func TestPureEvalBuild(t *testing.T) {
	b := newBuildEnv(t)
	sb := sandboxArgs(t)
	proj := filepath.Join(b.dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(b.dir, "secret"), []byte("secret\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "data.txt"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(proj, "ok.nix"), []byte(`let
  gen = derivation { name = "gen"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo '{ v = 42; }' > $out" ]; };
  copied = builtins.readFile "${./data.txt}";
  direct = builtins.readFile ./data.txt;
in derivation {
  name = "pure";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo ${direct} ${copied} ${toString (import gen).v} > $out" ];
}`), 0o644)
	os.WriteFile(filepath.Join(proj, "escape.nix"), []byte(`derivation {
  name = "escape";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo ${builtins.readFile ../secret} > $out" ];
}`), 0o644)
	code, out, errOut := runCmd(t, b.command(t, append([]string{"build", "--pure-eval", filepath.Join(proj, "ok.nix"), "--no-link"}, sb...)...))
	if code != 0 {
		t.Fatalf("pure build: %s", errOut)
	}
	if got := string(mustRead(t, strings.TrimSpace(out))); got != "inside inside 42\n" {
		t.Errorf("output %q", got)
	}
	code, _, errOut = runCmd(t, b.command(t, append([]string{"build", "--pure-eval", filepath.Join(proj, "escape.nix"), "--no-link"}, sb...)...))
	if code != 1 || !strings.Contains(errOut, "error: access to absolute path '"+filepath.Join(b.dir, "secret")+"' is forbidden in pure eval mode") ||
		strings.Contains(errOut, "building") {
		t.Errorf("escape: %d %s", code, errOut)
	}
	// Impure, the same file builds.
	if code, _, errOut := runCmd(t, b.command(t, append([]string{"build", filepath.Join(proj, "escape.nix"), "--no-link"}, sb...)...)); code != 0 {
		t.Errorf("impure build: %s", errOut)
	}
}
