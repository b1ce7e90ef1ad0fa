package builtins

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// CorePkgs are the files Nix provides under <nix/…>, found at
// eval.InternalDir (pass CorePkgs as eval.Options.Internal).
//
//go:embed corepkgs
var corePkgs embed.FS

// CorePkgs returns the internal files for eval.Options.Internal.
func CorePkgs() fs.FS {
	sub, _ := fs.Sub(corePkgs, "corepkgs")
	return sub
}

func primFindFile(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	list, err := e.ForceList(args[0], lang.NoPos, "while evaluating the first argument passed to builtins.findFile")
	if err != nil {
		return eval.Value{}, err
	}
	var entries []eval.SearchPathEntry
	for _, elem := range list {
		attrs, err := e.ForceAttrs(elem, lang.NoPos, "while evaluating an element of the list passed to builtins.findFile")
		if err != nil {
			return eval.Value{}, err
		}
		var entry eval.SearchPathEntry
		if a := attrs.Get(eval.Intern("prefix")); a != nil {
			entry.Prefix, err = e.ForceStringNoCtx(a.Value, lang.NoPos, "while evaluating the `prefix` attribute of an element of the list passed to builtins.findFile")
			if err != nil {
				return eval.Value{}, err
			}
		}
		a := attrs.Get(eval.Intern("path"))
		if a == nil {
			return eval.Value{}, eval.AddTrace(eval.Errorf(eval.ErrEval, pos, "attribute 'path' missing"), pos, "in an element of the __nixPath")
		}
		entry.Path, _, err = e.CoerceToString(a.Value, pos, eval.CoerceOptions{}, "while evaluating the `path` attribute of an element of the list passed to builtins.findFile")
		if err != nil {
			return eval.Value{}, err
		}
		entries = append(entries, entry)
	}
	name, err := e.ForceStringNoCtx(args[1], lang.NoPos, "while evaluating the second argument passed to builtins.findFile")
	if err != nil {
		return eval.Value{}, err
	}
	for _, entry := range entries {
		suffix, ok := matchPrefix(entry.Prefix, name)
		if !ok {
			continue
		}
		dir := entry.Path
		if !filepath.IsAbs(dir) {
			if abs, err := filepath.Abs(dir); err == nil {
				dir = abs
			}
		}
		candidate := dir
		if suffix != "" {
			candidate = dir + "/" + suffix
		}
		candidate = eval.CanonPath(candidate)
		if _, err := os.Stat(candidate); err == nil {
			return eval.Path(candidate), nil
		}
	}
	if strings.HasPrefix(name, "nix/") {
		return eval.Path(eval.InternalDir + name[3:]), nil
	}
	if e.PureEval {
		return eval.Value{}, eval.Errorf(eval.ErrThrown, pos, "cannot look up '<%s>' in pure evaluation mode (use '--impure' to override)", name)
	}
	return eval.Value{}, eval.Errorf(eval.ErrThrown, pos, "file '%s' was not found in the Nix search path (add it using $NIX_PATH or -I)", name)
}

// matchPrefix returns what remains of name after prefix, if prefix
// matches it as a whole path component.
func matchPrefix(prefix, name string) (string, bool) {
	if prefix == "" {
		return name, true
	}
	if !strings.HasPrefix(name, prefix) {
		return "", false
	}
	rest := name[len(prefix):]
	if rest == "" {
		return "", true
	}
	if rest[0] != '/' {
		return "", false
	}
	return rest[1:], true
}
