package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "shell", summary: "build packages and run a command with them on PATH (nix shell)", run: func(c *cli, args []string) int {
		return c.shellCmd(args)
	}})
}

func (c *cli) shellCmd(args []string) int {
	var f buildFlags
	fs := pflag.NewFlagSet("shell", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.StringVarP(&f.file, "file", "f", "", "build the expression in `FILE` (the same as giving FILE as an argument)")
	fs.StringVar(&f.stateDir, "state-dir", "", "the state `DIR` of the store (default: $NIXL_STATE_DIR, else the per-user one)")
	f.registerRealise(fs)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "%s\n%s\nFlags:\n%s", joinLines(
			"Usage: nixl shell [FLAGS] [FILE | -f FILE | -E EXPR] [-A ATTR]… [-- COMMAND ARGS…]",
			"",
			"Build the derivations an expression evaluates to (without result links), then run",
			"COMMAND (default: $SHELL, else /bin/sh) with the bin/ directory of each output put",
			"first on PATH, in the order given. The outputs are kept from the garbage collector",
			"while the command runs; nixl exits with the command's exit code."), substituteHelp, fs.FlagUsages())
	}
	if rc, stop := c.parseEvalFlags(fs, &f.evalFlags, args); stop {
		return rc
	}
	rest := fs.Args()
	var command []string
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		rest, command = fs.Args()[:dash], fs.Args()[dash:]
	}
	if f.file != "" {
		rest = append([]string{f.file}, rest...)
	}
	if len(rest) > 1 {
		return c.errorf("nixl shell takes one file, not %d (put the command after --)", len(rest))
	}
	if len(command) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		command = []string{sh}
	}
	file := ""
	if len(rest) == 1 {
		file = rest[0]
	}
	attrs := f.attrPaths
	if len(attrs) == 0 {
		attrs = []string{""}
	}
	var reqs []realiseRequest
	for _, a := range attrs {
		reqs = append(reqs, realiseRequest{file: file, attr: a})
	}
	s, err := c.openRealise(&f)
	if err != nil {
		return c.errorf("%v", err)
	}
	// The store stays open, and the outputs temporary roots, until the
	// command has finished.
	defer s.close()
	built, code := s.realise(reqs)
	if code != 0 {
		return code
	}
	var bins []string
	for _, b := range built {
		bin := filepath.Join(b.path, "bin")
		if st, err := os.Stat(bin); err == nil && st.IsDir() && !slices.Contains(bins, bin) {
			bins = append(bins, bin)
		}
	}
	path := strings.Join(bins, string(os.PathListSeparator))
	if old := os.Getenv("PATH"); old != "" {
		if path != "" {
			path += string(os.PathListSeparator)
		}
		path += old
	}
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PATH=") }), "PATH="+path)
	exe, err := lookPathIn(command[0], path)
	if err != nil {
		return c.errorf("%v", err)
	}
	cmd := exec.Command(exe, command[1:]...)
	cmd.Args[0] = command[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.stdin, c.stdout, c.stderr
	// The terminal sends Ctrl-C to the command too; nixl waits for it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return c.errorf("cannot run '%s': %v", command[0], unwrapPathErr(err))
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig != os.Interrupt {
					cmd.Process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	return c.errorf("running '%s': %v", command[0], err)
}

// lookPathIn finds a command as the shell would with PATH set to path.
func lookPathIn(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("command '%s' not found on PATH", name)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
