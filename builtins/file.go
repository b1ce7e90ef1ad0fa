package builtins

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
	"github.com/nixl-project/nixl/nixhash"
)

var fileBuiltins = []builtin{
	{name: "toFile", params: []string{"name", "s"}, fn: primToFile,
		doc: "Writes the string s to a file called name in the store and returns its store path. The strings s refers to (store paths in its context) become references of the file; referring to derivation outputs is not allowed."},
	{name: "path", params: []string{"args"}, fn: primPath,
		doc: "Copies a file or directory into the store and returns the store path. args is { path; name ? baseNameOf path; filter ? …; recursive ? true; sha256 ? … }: " +
			"filter works as in filterSource, recursive = false hashes a single file's bytes instead of its NAR, and sha256 is the hash the result must have."},
	{name: "filterSource", params: []string{"e1", "e2"}, fn: primFilterSource,
		doc: "Copies the path e2 into the store keeping only what e1 accepts, and returns the store path. e1 is called with the full path of each file below e2 and its type (\"regular\", \"directory\", \"symlink\" or \"unknown\"); a directory it rejects is left out whole."},
	{name: "storePath", params: []string{"path"}, fn: primStorePath,
		doc: "Returns path, which must be in the store, as a string that depends on the store path containing it, without copying it again. Not available in pure evaluation mode."},
	{name: "toPath", params: []string{"s"}, fn: primToPath,
		doc: "Deprecated: returns the absolute path s, canonicalised, as a string. Use `/. + s` to make a path value."},
	{name: "readFile", params: []string{"path"}, fn: primReadFile,
		doc: "Returns the contents of the file at path as a string. For a file in the store, the store paths it mentions from its references are the string's context."},
	{name: "readDir", params: []string{"path"}, fn: primReadDir,
		doc: "Returns the entries of the directory path as a set mapping each name to its type: \"regular\", \"directory\", \"symlink\" or \"unknown\"."},
	{name: "readFileType", params: []string{"p"}, fn: primReadFileType,
		doc: "Returns the type of the file p, without following a final symlink: \"regular\", \"directory\", \"symlink\" or \"unknown\"."},
	{name: "pathExists", params: []string{"path"}, fn: primPathExists,
		doc: "Tells whether path exists. A symlink counts even if it points nowhere; a string ending in \"/\" or \"/.\" must name a directory."},
}

// How far a path's symlinks are resolved before it is used.
type symlinkMode uint8

const (
	noSymlinks       symlinkMode = iota // the path as it is
	ancestorSymlinks                    // all but the last component
	allSymlinks                         // every component
)

// coercePath turns v into an absolute, canonical path: a path value, a
// string starting with "/", or a set whose __toString or outPath gives
// one. ctx is the trace frame for a value that cannot be a path.
func coercePath(e *eval.Eval, v eval.Value, pos lang.Pos, ctx string) (string, eval.Context, error) {
	if err := e.ForceAt(&v, pos); err != nil {
		return "", nil, err
	}
	switch v.Kind() {
	case eval.KindPath:
		return v.Str(), nil, nil
	case eval.KindAttrs:
		attrs := v.AttrsValue()
		if f := attrs.Get(eval.Intern("__toString")); f != nil {
			r, err := e.CallFunction(f.Value, []eval.Value{v}, f.Pos())
			if err != nil {
				return "", nil, eval.AddTrace(err, f.Pos(), "while calling the `__toString` attribute")
			}
			p, c, err := coercePath(e, r, pos, ctx)
			if err != nil {
				return "", nil, eval.AddTrace(err, f.Pos(), "while using the result of the `__toString` attribute")
			}
			return p, c, nil
		}
		if o := attrs.Get(eval.Intern("outPath")); o != nil {
			ov := o.Value
			if err := e.ForceAt(&ov, o.Pos()); err != nil {
				return "", nil, eval.AddTrace(err, o.Pos(), "while evaluating the `outPath` attribute")
			}
			p, c, err := coercePath(e, ov, pos, ctx)
			if err != nil {
				return "", nil, eval.AddTrace(err, o.Pos(), "while using the `outPath` attribute")
			}
			return p, c, nil
		}
	case eval.KindString:
		s := v.Str()
		if s == "" || s[0] != '/' {
			err := eval.Errorf(eval.ErrEval, lang.NoPos, "string '%s' doesn't represent an absolute path", s)
			return "", nil, eval.AddTrace(err, pos, "%s", ctx)
		}
		return eval.CanonPath(s), v.Context(), nil
	}
	err := eval.TypeErrorf(lang.NoPos, "cannot coerce %s to a string: %s", v.ShowType(), e.ShowValueShort(v))
	return "", nil, eval.AddTrace(err, pos, "%s", ctx)
}

// readablePath makes v a path to read: coerced, with the store paths of
// its context present in the store (derivation outputs would have to be
// built), and its symlinks resolved as mode says.
func readablePath(e *eval.Eval, v eval.Value, mode symlinkMode) (string, error) {
	p, ctx, err := coercePath(e, v, lang.NoPos, "while realising the context of a path")
	if err != nil {
		return "", err
	}
	if err := realiseContext(e, ctx); err != nil {
		return "", eval.AddTrace(err, lang.NoPos, "while realising the context of path '%s'", p)
	}
	if err := checkReadable(e, p, ctx); err != nil {
		return "", err
	}
	if mode == noSymlinks {
		return p, nil
	}
	r, err := resolveSymlinks(p, mode == allSymlinks)
	if err != nil {
		return "", eval.AddTrace(err, lang.NoPos, "while realising the context of path '%s'", p)
	}
	return r, nil
}

// realiseContext checks that the store paths a string depends on are in
// the store, and builds the derivation outputs it names when the store is
// a Realiser (import from derivation); otherwise naming an output is an
// error.
func realiseContext(e *eval.Eval, ctx eval.Context) error {
	var built []string
	outputs := map[string][]string{}
	for _, c := range ctx {
		var p string
		switch {
		case strings.HasPrefix(c, "!"):
			output, drvPath := splitBuiltContext(c)
			p = drvPath
			if _, seen := outputs[drvPath]; !seen {
				built = append(built, drvPath)
			}
			outputs[drvPath] = append(outputs[drvPath], output)
		case strings.HasPrefix(c, "="):
			p = c[1:]
		default:
			p = c
		}
		if !storePathValid(e, p) {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' is not valid", p)
		}
	}
	if len(built) == 0 {
		return nil
	}
	r, ok := e.Store.(Realiser)
	if !ok {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "cannot build '%s^%s' during evaluation: this command does not build (use nixl build or nixl instantiate)", built[0], outputs[built[0]][0])
	}
	for _, drvPath := range built {
		if err := r.RealiseOutputs(drvPath, outputs[drvPath]); err != nil {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
		}
	}
	return nil
}

func storePathValid(e *eval.Eval, p string) bool {
	if ds, ok := derivationStore(e); ok {
		return ds.IsValidPath(p)
	}
	_, err := os.Lstat(p)
	return err == nil
}

// resolveSymlinks follows the symlinks in the components of the absolute
// path p (the last one too if full), as Nix does: a relative target is
// taken from the link's directory, "." and ".." apply to the path built so
// far, and at most 1024 links are followed. Components that do not exist
// are kept as they are.
func resolveSymlinks(p string, full bool) (string, error) {
	return walkSymlinks(p, full, false)
}

// resolveExistingSymlinks resolves every symlink in p, every component of
// which must exist.
func resolveExistingSymlinks(p string) (string, error) {
	return walkSymlinks(p, true, true)
}

func walkSymlinks(p string, full, mustExist bool) (string, error) {
	todo := strings.Split(p, "/")
	var res []string
	links := 1024
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(res) > 0 {
				res = res[:len(res)-1]
			}
			continue
		}
		res = append(res, c)
		if !full && len(todo) == 0 {
			break
		}
		cur := "/" + strings.Join(res, "/")
		fi, err := os.Lstat(cur)
		if err != nil && mustExist {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", eval.Errorf(eval.ErrEval, lang.NoPos, "getting status of '%s': %s", cur, sysErrorText(err))
		}
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if links == 0 {
			return "", eval.Errorf(eval.ErrEval, lang.NoPos, "infinite symlink recursion in path '%s'", p)
		}
		links--
		target, err := os.Readlink(cur)
		if err != nil {
			return "", fileError(err, cur)
		}
		res = res[:len(res)-1]
		if strings.HasPrefix(target, "/") {
			res = res[:0]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return "/" + strings.Join(res, "/"), nil
}

// fileError words a file system error as Nix does.
func fileError(err error, path string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' does not exist", path)
	case errors.Is(err, syscall.ENOTDIR):
		return eval.Errorf(eval.ErrEval, lang.NoPos, "'%s' is not a directory", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "%s '%s': %s", pe.Op, path, sysErrorText(pe.Err))
	}
	return eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
}

// sysErrorText is the C library's wording of an error ("Is a directory").
func sysErrorText(err error) string {
	s := err.Error()
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func fileTypeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "unknown"
}

// storeDirOf returns the store path that p lies in ("" if none).
func storePathOf(e *eval.Eval, p string) string {
	dir := e.StoreDir() + "/"
	if !strings.HasPrefix(p, dir) || len(p) == len(dir) {
		return ""
	}
	rest := p[len(dir):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return dir + rest
}

// checkStorePathBase checks the base name of a store path as Nix does.
func checkStorePathBase(base string) error {
	if len(base) < 33 {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "'%s' is too short to be a valid store path", base)
	}
	for i := 0; i < 32; i++ {
		if strings.IndexByte(storeNix32Digits, base[i]) < 0 {
			return eval.Errorf(eval.ErrEval, lang.NoPos, "store path '%s' contains illegal base-32 character '%c'", base, base[i])
		}
	}
	if base[32] != '-' {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "store path '%s' lacks the '-' between hash and name", base)
	}
	if reason := storeNameProblem(base[33:]); reason != "" {
		return eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' is not a valid store path: %s", base, reason)
	}
	return nil
}

func primToFile(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	name, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "toFile"))
	if err != nil {
		return eval.Value{}, err
	}
	contents, ctx, err := e.ForceString(args[1], lang.NoPos, argCtx(1, "toFile"))
	if err != nil {
		return eval.Value{}, err
	}
	var refs []string
	for _, c := range ctx {
		if strings.HasPrefix(c, "=") || strings.HasPrefix(c, "!") {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "files created by %s may not reference derivations, but %s references %s", "builtins.toFile", name, c)
		}
		refs = append(refs, c)
	}
	if e.Store == nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "cannot write '%s' to the store: no store", name)
	}
	p, err := e.Store.AddText(name, contents, refs)
	if err != nil {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
	}
	return eval.StringWithContext(p, eval.NewContext(eval.ContextOpaque(p))), nil
}

func primPath(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], lang.NoPos, "while evaluating the argument passed to 'builtins.path'")
	if err != nil {
		return eval.Value{}, err
	}
	var (
		path      string
		havePath  bool
		ctx       eval.Context
		name      string
		filter    *eval.Value
		recursive = true
		expected  *nixhash.Hash
	)
	for i := range attrs {
		a := &attrs[i]
		switch n := a.Name.String(); n {
		case "path":
			p, c, err := coercePath(e, a.Value, a.Pos(), "while evaluating the 'path' attribute passed to 'builtins.path'")
			if err != nil {
				return eval.Value{}, err
			}
			path, ctx, havePath = p, c, true
		case "name":
			s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the `name` attribute passed to builtins.path")
			if err != nil {
				return eval.Value{}, err
			}
			name = s
		case "filter":
			f, err := e.ForceFunction(a.Value, a.Pos(), "while evaluating the `filter` parameter passed to builtins.path")
			if err != nil {
				return eval.Value{}, err
			}
			filter = &f
		case "recursive":
			b, err := e.ForceBool(a.Value, a.Pos(), "while evaluating the `recursive` attribute passed to builtins.path")
			if err != nil {
				return eval.Value{}, err
			}
			recursive = b
		case "sha256":
			s, err := e.ForceStringNoCtx(a.Value, a.Pos(), "while evaluating the `sha256` attribute passed to builtins.path")
			if err != nil {
				return eval.Value{}, err
			}
			h, err := storeHashAllowEmpty(e, s, "sha256")
			if err != nil {
				return eval.Value{}, err
			}
			expected = &h
		default:
			return eval.Value{}, eval.Errorf(eval.ErrEval, a.Pos(), "unsupported argument '%s' to 'builtins.path'", n)
		}
	}
	if !havePath {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "missing required 'path' attribute in the first argument to 'builtins.path'")
	}
	if name == "" {
		name = eval.BaseName(path)
	}
	return addPath(e, name, path, filter, recursive, expected, ctx)
}

func primFilterSource(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	path, ctx, err := coercePath(e, args[1], lang.NoPos, "while evaluating the second argument (the path to filter) passed to 'builtins.filterSource'")
	if err != nil {
		return eval.Value{}, err
	}
	filter, err := e.ForceFunction(args[0], lang.NoPos, argCtx(0, "filterSource"))
	if err != nil {
		return eval.Value{}, err
	}
	return addPath(e, eval.BaseName(path), path, &filter, true, nil, ctx)
}

// addPath copies path into the store under name (recursively or flat),
// asking filter about each file below it, and checks the result against
// the expected hash if there is one.
func addPath(e *eval.Eval, name, path string, filter *eval.Value, recursive bool, expected *nixhash.Hash, ctx eval.Context) (eval.Value, error) {
	v, err := func() (eval.Value, error) {
		if storePathOf(e, path) != "" && len(ctx) > 0 {
			if err := realiseContext(e, ctx); err != nil {
				return eval.Value{}, err
			}
		}
		if err := checkReadable(e, path, ctx); err != nil {
			return eval.Value{}, err
		}
		ds, _ := derivationStore(e)
		expectedPath := ""
		if expected != nil {
			if ds == nil {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "cannot compute the store path of '%s': the store does not support it", path)
			}
			method := "flat"
			if recursive {
				method = "nar"
			}
			p, err := ds.FixedOutputPath(name, method, *expected)
			if err != nil {
				return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
			}
			// Nothing to do if the store has it already.
			if ds.IsValidPath(p) {
				return storePathString(p), nil
			}
			expectedPath = p
		}
		var pathFilter eval.PathFilter
		if filter != nil {
			pathFilter = func(p, kind string) (bool, error) {
				r, err := e.CallFunction(*filter, []eval.Value{eval.String(p), eval.String(kind)}, lang.NoPos)
				if err != nil {
					return false, err
				}
				return e.ForceBool(r, lang.NoPos, "while evaluating the return value of the path filter function")
			}
		}
		src, err := resolveSymlinks(path, true)
		if err != nil {
			return eval.Value{}, err
		}
		if e.Store == nil {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "cannot copy '%s' to the store: no store", path)
		}
		dst, err := e.Store.AddPath(name, src, recursive, pathFilter)
		if err != nil {
			if _, ok := err.(*eval.Error); ok {
				return eval.Value{}, err
			}
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "%s", err.Error())
		}
		if expectedPath != "" && dst != expectedPath {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "store path mismatch in (possibly filtered) path added from '%s'", path)
		}
		return storePathString(dst), nil
	}()
	if err != nil {
		return eval.Value{}, eval.AddTrace(err, lang.NoPos, "while adding path '%s'", path)
	}
	return v, nil
}

// storePathString is a store path as a string that depends on it.
func storePathString(p string) eval.Value {
	return eval.StringWithContext(p, eval.NewContext(eval.ContextOpaque(p)))
}

func primStorePath(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	if e.PureEval {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "'%s' is not allowed in pure evaluation mode", "builtins.storePath")
	}
	p, ctx, err := coercePath(e, args[0], lang.NoPos, "while evaluating the first argument passed to 'builtins.storePath'")
	if err != nil {
		return eval.Value{}, err
	}
	dir := e.StoreDir()
	// A store path stands for itself (even a symlink); anything else is
	// resolved first, and must exist.
	if sp := storePathOf(e, p); sp == "" || sp != p || checkStorePathBase(sp[len(dir)+1:]) != nil {
		if p, err = resolveExistingSymlinks(p); err != nil {
			return eval.Value{}, err
		}
	}
	sp := storePathOf(e, p)
	if sp == "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "path '%s' is not in the Nix store", p)
	}
	if err := checkStorePathBase(sp[len(dir)+1:]); err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(p, ctx.Union(eval.NewContext(eval.ContextOpaque(sp)))), nil
}

func primToPath(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	p, ctx, err := coercePath(e, args[0], lang.NoPos, argCtx(0, "toPath"))
	if err != nil {
		return eval.Value{}, err
	}
	return eval.StringWithContext(p, ctx), nil
}

func primReadFile(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	p, err := readablePath(e, args[0], allSymlinks)
	if err != nil {
		return eval.Value{}, err
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "reading file '%s': %s", p, sysErrorText(syscall.EISDIR))
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return eval.Value{}, fileError(err, p)
	}
	s := string(data)
	if strings.IndexByte(s, 0) >= 0 {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "the contents of the file '%s' cannot be represented as a Nix string", p)
	}
	// A file in the store may mention the paths its store path refers to;
	// those it does mention become the context.
	var ctx []string
	if sp := storePathOf(e, p); sp != "" {
		if ds, ok := derivationStore(e); ok {
			refs, _ := ds.QueryReferences(sp)
			dir := e.StoreDir() + "/"
			for _, r := range refs {
				if len(r) >= len(dir)+32 && strings.Contains(s, r[len(dir):len(dir)+32]) {
					ctx = append(ctx, r)
				}
			}
		}
	}
	return eval.StringWithContext(s, eval.NewContext(ctx...)), nil
}

func primReadDir(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	p, err := readablePath(e, args[0], allSymlinks)
	if err != nil {
		return eval.Value{}, err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "reading directory '%s': %s", p, sysErrorText(pe.Err))
		}
		return eval.Value{}, fileError(err, p)
	}
	b := eval.NewAttrsBuilder(len(entries))
	for _, ent := range entries {
		b.AddString(ent.Name(), eval.String(fileTypeName(ent.Type())))
	}
	return b.Value(), nil
}

func primReadFileType(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	p, err := readablePath(e, args[0], noSymlinks)
	if err != nil {
		return eval.Value{}, err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return eval.Value{}, fileError(err, p)
	}
	return eval.String(fileTypeName(fi.Mode())), nil
}

func primPathExists(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	v := args[0]
	if err := e.ForceAt(&v, lang.NoPos); err != nil {
		return eval.Value{}, err
	}
	// A trailing slash (which the path itself loses) asks for a directory.
	mustBeDir := v.Kind() == eval.KindString && (strings.HasSuffix(v.Str(), "/") || strings.HasSuffix(v.Str(), "/."))
	mode := ancestorSymlinks
	if mustBeDir {
		mode = allSymlinks
	}
	p, err := readablePath(e, v, mode)
	if ee, ok := err.(*eval.Error); ok && ee.Kind == eval.ErrRestricted {
		// As in Nix: a path pure evaluation may not read does not exist.
		return eval.False, nil
	}
	if err != nil {
		return eval.Value{}, err
	}
	fi, err := os.Lstat(p)
	return eval.Bool(err == nil && (!mustBeDir || fi.IsDir())), nil
}
