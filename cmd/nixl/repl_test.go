package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestInteractive drives the interactive commands as a user or an editor
// would: nixl repl through a pseudo-terminal, nixl lsp over pipes. The
// binary is built once for all of them.
func TestInteractive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildNixl(t)
	t.Run("repl", func(t *testing.T) { testREPL(t, bin) })
	t.Run("repl-interrupt", func(t *testing.T) { testREPLInterrupt(t, bin) })
	t.Run("lsp", func(t *testing.T) { testLSP(t, bin) })
	t.Run("lsp-robust", func(t *testing.T) { testLSPRobust(t, bin) })
}

// term is a program running on a pseudo-terminal.
type term struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  []byte
	seen int // how much of the (cleaned) output expect has consumed
	done chan struct{}
}

func startTerm(t *testing.T, env []string, name string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out = append(tm.out, buf[:n]...)
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
		cmd.Wait()
	})
	return tm
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

// text is the output so far without terminal control sequences.
func (tm *term) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(string(tm.out), "")
}

// expect waits for want to appear in the output after what earlier calls
// matched, and consumes the output up to its end.
func (tm *term) expect(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := tm.text()
		if i := strings.Index(s[min(tm.seen, len(s)):], want); i >= 0 {
			tm.seen += i + len(want)
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; output after the last match:\n%s", want, s[min(tm.seen, len(s)):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

// line types a line and waits for the prompt that follows its result.
func (tm *term) line(s string) {
	tm.t.Helper()
	tm.send(s + "\r")
}

// replEnv is a clean environment: its own home, state directory (for
// the history) and store directory.
func replEnv(t *testing.T) ([]string, string, string) {
	home := t.TempDir()
	state := filepath.Join(home, "state")
	store := filepath.Join(home, "store")
	env := []string{"HOME=" + home, "XDG_STATE_HOME=" + state, "TERM=xterm", "PATH=" + os.Getenv("PATH"), "NIXL_STORE_DIR=" + store}
	return env, state, store
}

func testREPL(t *testing.T, bin string) {
	env, state, store := replEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lib.nix"), []byte("{\n  pkgs = { hello = 42; help = 1; };\n  double = x: x * 2;\n}\n"), 0o644)
	editorLog := filepath.Join(dir, "editor.log")
	editor := filepath.Join(dir, "editor.sh")
	os.WriteFile(editor, []byte("#!/bin/sh\necho \"$@\" > "+editorLog+"\n"), 0o755)
	env = append(env, "EDITOR="+editor)
	tm := startTerm(t, env, bin, "repl", filepath.Join(dir, "lib.nix"))
	tm.expect("Added 2 variables.")
	tm.expect("nixl-repl> ")

	// A binding, then an expression using it.
	tm.line("x = 20")
	tm.expect("nixl-repl> ")
	tm.line("x * 2 + 1")
	tm.expect("\n41\n")

	// :t and :doc.
	tm.line(":t x")
	tm.expect("\nan integer\n")
	tm.line(":doc map")
	tm.expect("Synopsis: builtins.map f list")

	// TAB completes a builtin (builtins.foldl → builtins.foldl') and an
	// attribute path (pkgs.hel → pkgs.hello, evaluating pkgs).
	tm.send("builtins.fold\t")
	time.Sleep(300 * time.Millisecond)
	tm.line(" (a: b: a + b) 1000 [ 1 2 3 ]")
	tm.expect("\n1006\n")
	tm.send("pkgs.hell\t")
	time.Sleep(300 * time.Millisecond)
	tm.line(" + 100")
	tm.expect("\n142\n")

	// A multi-line expression: the prompt continues while it is
	// incomplete.
	tm.line("let")
	tm.line("  y = 3;")
	tm.line("in")
	tm.line("  double y * 100")
	tm.expect("\n600\n")

	// An error, then a working expression.
	tm.line("nope + 1")
	tm.expect("error: undefined variable 'nope'")
	tm.line("\"after\" + \" error\"")
	tm.expect("\n\"after error\"\n")

	// Lazy printing.
	tm.line("{ a = 1; b = 1 + 1; }")
	tm.expect("{ a = 1; b = «thunk»; }")

	// Derivations print as their .drv path; :b cannot build yet.
	tm.line(`drv = derivation { name = "x"; builder = "/bin/sh"; system = "x86_64-linux"; }`)
	tm.line("drv")
	tm.expect("«derivation " + store + "/")
	tm.expect("-x.drv»")
	tm.line(":b drv")
	tm.expect("error: building is not available yet")

	// :e opens the editor at the function's definition, then reloads.
	tm.line(":e double")
	tm.expect("Added 2 variables.")
	if got, _ := os.ReadFile(editorLog); string(got) != "+3 "+filepath.Join(dir, "lib.nix")+"\n" {
		t.Errorf("editor ran with %q", got)
	}
	tm.line("double 5")
	tm.expect("\n10\n")

	tm.line(":q")
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal(":q did not end the REPL")
	}
	hist, err := os.ReadFile(filepath.Join(state, "nixl", "repl-history"))
	if err != nil || !strings.Contains(string(hist), "x * 2 + 1") {
		t.Errorf("history: %q %v", hist, err)
	}
}

func testREPLInterrupt(t *testing.T, bin string) {
	env, _, _ := replEnv(t)
	tm := startTerm(t, env, bin, "repl")
	tm.expect("nixl-repl> ")
	// Long but not deep: 10^8 calls in nested folds.
	tm.line("builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 10000)) 0 (builtins.genList (x: x) 10000)")
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	// Ctrl-C, until the evaluation (not the line editor) gets it.
	for i := 0; ; i++ {
		tm.send("\x03")
		time.Sleep(300 * time.Millisecond)
		if strings.Contains(tm.text()[tm.seen:], "interrupted by the user") {
			break
		}
		if i > 30 {
			t.Fatalf("Ctrl-C did not interrupt:\n%s", tm.text()[tm.seen:])
		}
	}
	tm.expect("error: interrupted by the user")
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("interrupting took %v", d)
	}
	tm.line("6 * 7")
	tm.expect("\n42\n")
	tm.send("\x04") // Ctrl-D ends the session too
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-D did not end the REPL")
	}
}
