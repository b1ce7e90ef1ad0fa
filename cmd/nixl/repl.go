package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/chzyer/readline"
	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/repl"
)

func init() {
	register(&command{name: "repl", summary: "evaluate expressions interactively", run: func(c *cli, args []string) int {
		return c.repl(args)
	}})
}

// replBuilder is what :b builds with; nil until nixl can realise
// derivations (then `nixl build` support sets it).
var replBuilder repl.Builder

func (c *cli) repl(args []string) int {
	var f evalFlags
	fs := pflag.NewFlagSet("repl", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl repl [FLAGS] [FILE…]\n\nLoads the FILEs' attributes into scope and reads expressions to evaluate.\nType :? in the REPL for its commands.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if rc, stop := c.parseEvalFlags(fs, &f, args); stop {
		return rc
	}
	var term *terminalReader
	sess, err := repl.New(repl.Options{
		NewEval: func() (*eval.Eval, error) {
			e, err := c.newEvaluator(&f)
			if err == nil {
				for _, file := range fs.Args() {
					if abs, err := filepath.Abs(file); err == nil && !strings.HasPrefix(file, "<") {
						allowMainFile(e, abs)
					}
				}
			}
			return e, err
		},
		LibraryDoc: libraryDoc,
		Stdout:     c.stdout,
		Stderr:     c.stderr,
		Builder:    replBuilder,
		Editor: func(file string, line int) error {
			if term != nil {
				term.suspend()
			}
			return repl.RunEditor(file, line)
		},
	})
	if err != nil {
		return c.errorf("%v", err)
	}
	// Ctrl-C during an evaluation interrupts it (at the prompt the line
	// editor gets it as a key).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			sess.Interrupt()
		}
	}()
	fmt.Fprintf(c.stdout, "Welcome to nixl %s. Type :? for help.\n\n", version)
	for _, file := range fs.Args() {
		if err := sess.Load(file); err != nil {
			// As nix repl: a file that does not load ends the session.
			fmt.Fprint(c.stderr, sess.Render(err))
			return 1
		}
	}
	var r repl.LineReader
	if c.stdin == os.Stdin && readline.DefaultIsTerminal() {
		term = &terminalReader{sess: sess, history: historyFile()}
		defer term.suspend()
		r = term
	} else {
		r = &plainReader{in: bufio.NewReader(c.stdin)}
	}
	if err := repl.Run(sess, r); err != nil {
		return c.errorf("%v", err)
	}
	return 0
}

// historyFile is $XDG_STATE_HOME/nixl/repl-history (by default
// ~/.local/state/nixl/repl-history); "" when there is no such place.
func historyFile() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "nixl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	return filepath.Join(dir, "repl-history")
}

// terminalReader reads lines with a line editor: history (kept in the
// history file), TAB completion from the session.
type terminalReader struct {
	sess    *repl.Session
	history string
	rl      *readline.Instance
}

func (t *terminalReader) ReadLine(prompt string) (string, error) {
	if t.rl == nil {
		rl, err := readline.NewEx(&readline.Config{
			Prompt:            prompt,
			HistoryFile:       t.history,
			HistorySearchFold: true,
			AutoComplete:      completer{t.sess},
			InterruptPrompt:   "^C",
		})
		if err != nil {
			return "", err
		}
		t.rl = rl
	}
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", repl.ErrInterrupt
	}
	return line, err
}

// suspend closes the line editor (it reads the terminal in the
// background), for an editor to run or at the end.
func (t *terminalReader) suspend() {
	if t.rl != nil {
		t.rl.Close()
		t.rl = nil
	}
}

// completer adapts Session.Complete to readline.
type completer struct{ sess *repl.Session }

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	s := string(line)
	bytePos := len(string(line[:pos]))
	start, cands := c.sess.Complete(s, bytePos)
	word := s[start:bytePos]
	var out [][]rune
	for _, cand := range cands {
		if strings.HasPrefix(cand, word) {
			out = append(out, []rune(cand[len(word):]))
		}
	}
	return out, utf8.RuneCountInString(word)
}

// plainReader reads lines from a pipe or file, without prompts.
type plainReader struct{ in *bufio.Reader }

func (p *plainReader) ReadLine(string) (string, error) {
	line, err := p.in.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	return strings.TrimRight(line, "\r\n"), err
}
