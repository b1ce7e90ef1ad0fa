package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lsp"
)

func init() {
	register(&command{name: "lsp", summary: "run the language server (LSP over standard input and output)", run: func(c *cli, args []string) int {
		return c.lsp(args)
	}})
}

func (c *cli) lsp(args []string) int {
	var f evalFlags
	fs := pflag.NewFlagSet("lsp", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl lsp [FLAGS]\n\n"+
			"Runs a Language Server Protocol server on standard input and output:\n"+
			"diagnostics, hover, completion, go-to-definition, document symbols.\n"+
			"The evaluation flags configure the (bounded) evaluations it does.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if rc, stop := c.parseFlags(fs, args); stop {
		return rc
	}
	if f.maxCallDepth == 0 {
		// Deep enough for real code, and the stack stays small.
		f.maxCallDepth = 10000
	}
	err := lsp.Serve(context.Background(), stdio{c.stdin, c.stdout}, lsp.Options{
		NewEval: func() (*eval.Eval, error) {
			e, err := c.newEvaluator(&f)
			if err != nil {
				return nil, err
			}
			e.Stderr = io.Discard // traces and warnings of hover evaluations
			return e, nil
		},
		Globals:    builtins.Names(),
		Docs:       builtins.Docs(),
		LibraryDoc: libraryDocMarkdown,
		Log:        c.stderr,
		Version:    version,
	})
	if errors.Is(err, lsp.ErrNoShutdown) {
		return 1
	}
	if err != nil {
		return c.errorf("%v", err)
	}
	return 0
}

// stdio joins standard input and output into the server's stream.
type stdio struct {
	in  io.Reader
	out io.Writer
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error {
	if c, ok := s.in.(io.Closer); ok {
		c.Close()
	}
	return nil
}
