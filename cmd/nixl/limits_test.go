package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runLimited runs this test binary as nixl in a separate process (limits
// such as --max-memory are process-wide) and returns its exit code and
// standard error.
func runLimited(t *testing.T, args ...string) (int, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), "NIXL_TEST_AS_CLI=1", "NIXL_CONF_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nixl %q timed out", args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "internal error") || strings.Contains(stderr.String(), "fatal error") {
		t.Fatalf("nixl %q crashed: %.2000s", args, stderr.String())
	}
	return code, stderr.String()
}

// TestLimitsCLI: the limits on evaluation end it with a clear error and
// exit code 1, never a crash.
func TestLimitsCLI(t *testing.T) {
	deepParens := strings.Repeat("(", 30_000) + "1" + strings.Repeat(")", 30_000)
	growth := `let s = builtins.concatStringsSep "" (builtins.genList (j: "a") 1000000); in builtins.deepSeq (builtins.genList (i: s + toString i) 100000) 1`
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "-E", deepParens}, "error: expression nested too deeply (more than 10000 levels)\n       at «string»:1:5001:"},
		{[]string{"eval", "--max-call-depth", "1000", "-E", "let f = x: f x; in f 1"}, "error: stack overflow; max-call-depth exceeded"},
		{[]string{"eval", "--max-call-depth", "100000", "--strict", "-E", "let f = n: [ n (f (n + 1)) ]; in f 0"}, "error: stack overflow; max-call-depth exceeded"},
		{[]string{"eval", "--max-memory", "64M", "-E", growth}, "error: evaluation stopped: it used more than the memory limit of 64 MiB (--max-memory)"},
		{[]string{"eval", "--max-memory", "64M", "-E", "builtins.genList (x: x) 10000000"}, "error: a list of 10000000 elements would take 228.9 MiB, more than the memory limit of 64 MiB (--max-memory)"},
		{[]string{"eval", "--max-memory", "lots", "-E", "1"}, "error: invalid memory size 'lots' (expected e.g. 4G, 512M or a number of bytes)"},
		{[]string{"eval", "-E", "builtins.genList (x: x) 1000000000000"}, "error: cannot create list of size 1000000000000 (the maximum is 67108864)"},
		{[]string{"eval", "-E", `let s = builtins.concatStringsSep "" (builtins.genList (x: "0123456789") 100000); in builtins.concatStringsSep "" (builtins.genList (x: s) 100000)`},
			"error: cannot create a string of 100000000000 bytes (the maximum is 1 GiB)"},
	} {
		code, stderr := runLimited(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("nixl %.100q: exit %d\n%.1500s\nwant %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestParseMemorySize(t *testing.T) {
	for in, want := range map[string]uint64{
		"0": 0, "1000": 1000, "4G": 4 << 30, "4g": 4 << 30, "512M": 512 << 20, "512MiB": 512 << 20,
		"2GB": 2 << 30, "64k": 64 << 10, "1T": 1 << 40, " 3 M ": 3 << 20,
	} {
		if got, err := parseMemorySize(in); err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1", "1.5G", "4X", "99999999999T", "lots"} {
		if _, err := parseMemorySize(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
