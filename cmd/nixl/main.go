// Command nixl is the command-line interface of nixl: evaluate Nix
// expressions, instantiate and build derivations, manage the store, make
// images, explore in a REPL, and check files for editors.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/lang"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(c *cli, args []string) int
}

// cli carries the process's standard streams, so commands can run in
// tests without a subprocess.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func (c *cli) errorf(format string, args ...any) int {
	// Messages quote file names, store paths from caches and streams…:
	// control characters a terminal would act on are shown as '?'.
	fmt.Fprintf(c.stderr, "error: %s\n", lang.Printable(fmt.Sprintf(format, args...)))
	return 1
}

var commands []*command

func register(cmd *command) { commands = append(commands, cmd) }

// evaluates lists the commands that run one evaluation and exit, for
// which a helper populates the heap ahead (prefault_linux.go). Not
// build: its store maps heap it hardly touches (a no-op build of 1,000
// derivations went from 74 to 111 MB peak with the helper, for no gain).
var evaluates = map[string]bool{"eval": true, "instantiate": true, "check": true}

func main() {
	// Evaluation recurses deeply (a 1,000,000-deep recursion must work).
	debug.SetMaxStack(8 << 30)
	hugePages := adviseHugePages() != 0
	if len(os.Args) > 1 && evaluates[os.Args[1]] {
		startPrefault(hugePages)
	}
	tuneGC()
	stopProfile := startProfile()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	code := c.main(os.Args[1:])
	stopProfile()
	os.Exit(code)
}

func (c *cli) main(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(c.stderr, "error: internal error (please report it): %v\n", r)
			if os.Getenv("NIXL_DEBUG") != "" {
				fmt.Fprintf(c.stderr, "%s\n", debug.Stack())
			}
			code = 1
		}
	}()
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" && len(args) == 1 {
		c.usage(c.stdout)
		return 0
	}
	if args[0] == "--version" {
		fmt.Fprintln(c.stdout, "nixl "+version)
		return 0
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "error: unknown command '%s'\n", args[0])
	c.usage(c.stderr)
	return 1
}

const version = "0.1.0"

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `nixl: the Nix language, derivations, store and images in one binary

Usage: nixl COMMAND [FLAGS] [ARGS]

Commands:
`)
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, cmd := range sorted {
		fmt.Fprintf(w, "  %-12s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Run 'nixl COMMAND --help' for the flags of a command.
`)
}

// joinLines is used by help texts.
func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// parseFlags parses a command's flags. pflag's ContinueOnError mode
// reports nothing itself, so a bad flag is reported here, with a pointer
// to --help; stop says the command is done, with exit code rc.
func (c *cli) parseFlags(fs *pflag.FlagSet, args []string) (rc int, stop bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, pflag.ErrHelp):
		return 0, true
	}
	fmt.Fprintf(c.stderr, "error: %v\nTry 'nixl %s --help' for the flags.\n", err, fs.Name())
	return 1, true
}
