package builtins

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/stdlib"
)

// CorePkgs are the files Nix provides under <nix/…>, found at
// eval.InternalDir (pass CorePkgs as eval.Options.Internal).
//
//go:embed corepkgs
var corePkgs embed.FS

// CorePkgs returns the internal files for eval.Options.Internal: Nix's
// corepkgs at the top (<nix/fetchurl.nix>) and nixl's standard library
// under nixl/ (<nixl>, <nixl/lib/strings.nixl>).
func CorePkgs() fs.FS {
	sub, _ := fs.Sub(corePkgs, "corepkgs")
	return internalFS{core: sub, nixl: stdlib.FS()}
}

// internalFS puts the standard library's files under nixl/ beside the
// corepkgs.
type internalFS struct{ core, nixl fs.FS }

func (f internalFS) Open(name string) (fs.File, error) {
	if name == "nixl" {
		return f.nixl.Open(".")
	}
	if rest, ok := strings.CutPrefix(name, "nixl/"); ok {
		return f.nixl.Open(rest)
	}
	return f.core.Open(name)
}

// internalLookup is the fallback for <nix/…> and <nixl…> when no search
// path entry has them: the internal files. An import of a directory
// there must name its file, since only the filesystem's directories are
// resolved to a default file by import, so <nixl> and other
// directories resolve to their default.nixl here.
func internalLookup(e *eval.Eval, name string) (string, bool) {
	var rel string
	switch {
	case strings.HasPrefix(name, "nix/"):
		return eval.InternalDir + name[3:], true
	case name == "nixl" || strings.HasPrefix(name, "nixl/"):
		rel = name
	default:
		return "", false
	}
	if e.Internal != nil {
		if fi, err := fs.Stat(e.Internal, rel); err == nil && fi.IsDir() {
			rel += "/" + stdlib.Root
		}
	}
	return eval.InternalDir + "/" + rel, true
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
	if p, ok := internalLookup(e, name); ok {
		return eval.Path(p), nil
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
