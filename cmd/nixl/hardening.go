package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// allowMainFile lets a pure evaluation (--pure-eval) read the file named
// on the command line and its neighbours: the directory it is in, or the
// directory itself when one is named (its default.nix). Everything else
// must be below a -I entry, or a store path the evaluation holds.
func allowMainFile(e *eval.Eval, abs string) {
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		e.AllowPath(abs)
		return
	}
	e.AllowPath(filepath.Dir(abs))
}

// errNotDerivation is nix-instantiate's and nix-build's error for a value
// that is neither a derivation nor a set or list that may hold some.
func errNotDerivation() error {
	return eval.Errorf(eval.ErrType, lang.NoPos, "expression does not evaluate to a derivation (or a set or list of those)")
}

// buildTargets is what nixl build builds: like nix-build, a store
// derivation named on the command line (a path in the store ending in
// .drv, possibly through a symbolic link) is built as it is, its output
// "out" (or DRV!OUTPUT's); anything else is evaluated.
func (c *cli) buildTargets(e *eval.Eval, s *local.Store, f *evalFlags, args []string) ([]drvTarget, error) {
	if f.exprSet || len(args) != 1 || len(f.attrPaths) > 0 {
		return c.instantiateTargets(e, f, args)
	}
	arg, output, _ := strings.Cut(args[0], "!")
	abs, err := filepath.Abs(arg)
	if err != nil || !strings.HasSuffix(abs, store.DrvExtension) {
		return c.instantiateTargets(e, f, args)
	}
	if !strings.HasPrefix(abs, s.Dir()+"/") {
		if target, err := filepath.EvalSymlinks(abs); err == nil && strings.HasPrefix(target, s.Dir()+"/") {
			abs = target
		} else {
			return c.instantiateTargets(e, f, args)
		}
	}
	drvPath, err := resolveValid(s, abs)
	if err != nil {
		return nil, err
	}
	if drvPath != abs {
		return nil, fmt.Errorf("'%s' is not a store derivation (it is inside '%s')", abs, drvPath)
	}
	drv, err := s.ReadDerivation(drvPath)
	if err != nil {
		return nil, fmt.Errorf("reading derivation '%s': %w", drvPath, unwrapDrvPathError(drvPath, err))
	}
	if output == "" {
		output = "out"
		if o := drv.Env["outputName"]; o != "" {
			output = o
		}
	}
	if _, ok := drv.Outputs[output]; !ok {
		return nil, fmt.Errorf("derivation '%s' does not have an output named '%s'", drvPath, output)
	}
	return []drvTarget{{drvPath: drvPath, output: output}}, nil
}

// unwrapDrvPathError drops the "PATH: " prefix derivation.ReadFile puts
// before a parse error, which the caller's message already names.
func unwrapDrvPathError(drvPath string, err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), drvPath+": "); ok {
		return errors.New(msg)
	}
	return err
}
