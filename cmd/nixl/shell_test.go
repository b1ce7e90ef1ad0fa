package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// nixlStdin is buildEnv.nixl with standard input.
func (b buildEnv) nixlStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr}
	code := c.main(b.args(args))
	if strings.Contains(stderr.String(), "internal error") {
		t.Fatalf("nixl %v panicked: %s", args, stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

func TestShell(t *testing.T) {
	b := newBuildEnv(t)
	file := writePackages(t, b.dir, "1.0")

	// The command runs with each output's bin/ first on PATH, in order,
	// and its exit code is nixl's.
	code, out, errOut := b.nixl(t, "shell", file, "-A", "hello", "-A", "tool", "--sandbox=off", "--",
		"sh", "-c", `hello; tool; echo "PATH=$PATH"; exit 3`)
	if code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	re := regexp.MustCompile(`^hello 1\.0\ntool 0\.1\nPATH=` + regexp.QuoteMeta(b.store) + `/[0-9a-z]{32}-hello-1\.0/bin:` +
		regexp.QuoteMeta(b.store) + `/[0-9a-z]{32}-tool-0\.1/bin:` + regexp.QuoteMeta(os.Getenv("PATH")) + "\n$")
	if !re.MatchString(out) {
		t.Errorf("output:\n%s", out)
	}
	// No result links.
	if _, err := os.Lstat(b.dir + "/result"); err == nil {
		t.Error("nixl shell made a result link")
	}

	// Without a command: $SHELL, reading standard input.
	t.Setenv("SHELL", "/bin/sh")
	code, out, errOut = b.nixlStdin(t, "hello; exit 5\n", "shell", file, "-A", "hello", "--sandbox=off")
	if code != 5 || out != "hello 1.0\n" {
		t.Errorf("default shell: exit %d, %q %s", code, out, errOut)
	}

	// The outputs are kept alive while the command runs: a collection
	// from inside it keeps hello, which nothing else roots; once the
	// shell is gone, the next collection deletes it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	gc := `env NIXL_TEST_AS_CLI=1 "$0" store gc --store-dir "$1" --state-dir "$2" >/dev/null 2>&1 || echo gc failed; hello`
	code, out, errOut = b.nixl(t, "shell", file, "-A", "hello", "--sandbox=off", "--", "sh", "-c", gc, exe, b.store, b.state)
	if code != 0 || out != "hello 1.0\n" {
		t.Fatalf("hello after a collection: exit %d, %q %s", code, out, errOut)
	}
	_, gcOut, gcErr := b.nixl(t, "store", "gc")
	if !regexp.MustCompile(`deleting '[^']*-hello-1\.0'`).MatchString(gcOut + gcErr) {
		t.Errorf("hello was not collected after the shell exited:\n%s", gcOut)
	}

	// A command killed by a signal: 128 + the signal.
	if code, _, errOut := b.nixl(t, "shell", file, "-A", "tool", "--sandbox=off", "--", "sh", "-c", "kill -TERM $$"); code != 128+15 {
		t.Errorf("killed command: exit %d %s", code, errOut)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"shell", file, "-A", "nope", "--sandbox=off", "--", "true"}, "error: attribute 'nope'"},
		{[]string{"shell", file, "-A", "tool", "--sandbox=off", "--", "no-such-command-here"}, "error: command 'no-such-command-here' not found on PATH"},
		{[]string{"shell", file, "-A", "broken", "--sandbox=off", "--", "true"}, "failed with exit code 1"},
		{[]string{"shell", file, "extra", "-A", "tool", "--sandbox=off"}, "put the command after --"},
	} {
		code, _, errOut := b.nixl(t, c.args...)
		if code != 1 || !strings.Contains(errOut, c.msg) {
			t.Errorf("nixl %v: exit %d %s", c.args, code, errOut)
		}
	}
}
