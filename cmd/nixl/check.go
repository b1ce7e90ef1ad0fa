package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/lang/analysis"
)

func init() {
	register(&command{name: "check", summary: "report syntax errors, undefined and unused variables (for editors and CI)", run: func(c *cli, args []string) int {
		return c.check(args)
	}})
}

func (c *cli) check(args []string) int {
	var f evalFlags
	var asJSON, evaluate bool
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	f.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print the diagnostics as a JSON list of {file, range, severity, code, message}")
	fs.BoolVar(&evaluate, "eval", false, "also evaluate each file (deeply, without calling a function it evaluates to) and report the error")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl check [--json] [--eval] FILE…\n\n"+
			"Parses each file (going on after errors) and checks it: syntax errors,\n"+
			"undefined variables, duplicate attributes, unused let bindings and formals,\n"+
			"shadowed builtins. Prints file:line:col: severity: message [code] lines,\n"+
			"or JSON with --json; exits with 1 when there are errors.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if rc, stop := c.parseEvalFlags(fs, &f, args); stop {
		return rc
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 1
	}
	home := os.Getenv("HOME")
	features := f.featureSet()
	all := []analysis.Diagnostic{}
	for _, name := range fs.Args() {
		src, err := os.ReadFile(name)
		if err != nil {
			return c.errorf("%s", describeFileError(name, err))
		}
		abs, _ := filepath.Abs(name)
		res := analysis.Check(lang.NewFileSet(), name, string(src), analysis.Config{
			Globals: builtins.Names(), BaseDir: filepath.Dir(abs), Home: home,
			PipeOperators: features["pipe-operators"],
		})
		all = append(all, res.Diagnostics...)
		if evaluate && res.Errors() == 0 {
			if d, ok := c.evalDiagnostic(&f, name, abs); ok {
				all = append(all, d)
			}
		}
	}
	if asJSON {
		out, _ := json.MarshalIndent(all, "", "  ")
		fmt.Fprintln(c.stdout, string(out))
	} else {
		for _, d := range all {
			fmt.Fprintln(c.stdout, d.String())
		}
	}
	for _, d := range all {
		if d.Severity == analysis.SeverityError {
			return 1
		}
	}
	return 0
}

// evalDiagnostic evaluates a file deeply and turns the error, if any, into
// a diagnostic.
func (c *cli) evalDiagnostic(f *evalFlags, name, abs string) (analysis.Diagnostic, bool) {
	e, err := c.newEvaluator(f)
	if err != nil {
		return analysis.Diagnostic{File: name, Severity: analysis.SeverityError, Code: analysis.CodeEval, Message: err.Error()}, true
	}
	allowMainFile(e, abs)
	v, err := e.EvalFile(abs, lang.NoPos)
	if err == nil {
		err = e.ForceDeep(&v, lang.NoPos)
	}
	if err == nil {
		return analysis.Diagnostic{}, false
	}
	var ee *eval.Error
	if !errors.As(err, &ee) {
		return analysis.Diagnostic{File: name, Severity: analysis.SeverityError, Code: analysis.CodeEval, Message: err.Error()}, true
	}
	// Without a position of its own (Nix reports some errors so), the
	// error is placed at the innermost frame of its trace that has one.
	pos := ee.Pos
	for i := 0; !pos.IsValid() && i < len(ee.Trace); i++ {
		pos = ee.Trace[i].Pos
	}
	file := name
	if posn := e.FileSet().Position(pos); posn.IsValid() && posn.Filename != abs {
		file = posn.Filename
	}
	msg := ee.Msg
	if ee.Hint != "" {
		msg += " (" + ee.Hint + ")"
	}
	return analysis.NewDiagnostic(e.FileSet(), file, pos, analysis.SeverityError, analysis.CodeEval, msg), true
}
