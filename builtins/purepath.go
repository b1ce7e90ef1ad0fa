package builtins

import (
	"strings"

	"github.com/nixl-project/nixl/eval"
)

// checkReadable enforces pure evaluation's allowed roots (eval.CheckPath)
// for the path p about to be read, whose string context is ctx. A store
// path the context accounts for (an opaque element naming it, or a
// derivation element of which it is an output, as import from derivation
// reads) becomes readable first: the evaluation holds it legitimately.
func checkReadable(e *eval.Eval, p string, ctx eval.Context) error {
	if !e.PureEval {
		return nil
	}
	if sp := storePathOf(e, p); sp != "" && contextCovers(e, ctx, sp) {
		e.AllowPath(sp)
	}
	return e.CheckPath(p)
}

// contextCovers reports whether the store path sp is named by ctx.
func contextCovers(e *eval.Eval, ctx eval.Context, sp string) bool {
	for _, c := range ctx {
		var drvPath, output string
		switch {
		case strings.HasPrefix(c, "!"):
			output, drvPath = splitBuiltContext(c)
		case strings.HasPrefix(c, "="):
			drvPath = c[1:]
		default:
			if c == sp {
				return true
			}
			continue
		}
		if drvPath == sp {
			return true
		}
		ds, ok := derivationStore(e)
		if !ok {
			continue
		}
		outputs, err := ds.DerivationOutputs(drvPath)
		if err != nil {
			continue
		}
		for _, o := range outputs {
			if (output == "" || output == o.Name) && o.Path == sp {
				return true
			}
		}
	}
	return false
}
