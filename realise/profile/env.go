package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nixl-project/nixl/realise/builtinbuild"
	"github.com/nixl-project/nixl/realise/store/local"
)

// Build makes the store path of a generation holding the elements of m:
// the symbolic-link tree builtin:buildenv makes of their store paths (by
// priority), with manifest.json, added to st as a content-addressed path
// referring to the packages it links to. The packages' paths must be
// valid. The buildenv builder's log (collisions resolved, skipped
// files, "warning: …" lines) goes to log, which may be nil.
func Build(ctx context.Context, st *local.Store, m *Manifest, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	type pkg struct {
		Paths    []string `json:"paths"`
		Priority int      `json:"priority"`
	}
	pkgs := []pkg{}
	var refs []string
	for _, e := range m.Elements {
		for _, p := range e.StorePaths {
			if ok, err := st.IsValidPath(p); err != nil {
				return "", err
			} else if !ok {
				return "", fmt.Errorf("path '%s' of '%s' is not valid", p, e.Label())
			}
			if err := st.AddTempRoot(p); err != nil {
				return "", err
			}
		}
		pkgs = append(pkgs, pkg{Paths: e.StorePaths, Priority: e.Priority})
		refs = append(refs, e.StorePaths...)
	}
	pkgsJSON, err := json.Marshal(pkgs)
	if err != nil {
		return "", err
	}
	manifest, err := m.Marshal()
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "nixl-profile-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "profile")
	buildDir := filepath.Join(tmp, "build")
	if err := os.Mkdir(buildDir, 0o700); err != nil {
		return "", err
	}
	buildenv, ok := builtinbuild.Lookup("builtin:buildenv")
	if !ok {
		return "", fmt.Errorf("internal error: no builtin:buildenv builder")
	}
	err = buildenv(&builtinbuild.Context{
		Outputs:  map[string]string{"out": out},
		Env:      map[string]string{"pkgs": string(pkgsJSON)},
		BuildDir: buildDir,
		StoreDir: st.Dir(),
		Log:      log,
		Ctx:      ctx,
	})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(out, ManifestName), manifest, 0o444); err != nil {
		return "", err
	}
	// Packages propagated by the installed ones (nix-support/
	// propagated-user-env-packages) are linked to as well.
	linked, err := linkedPaths(st, out)
	if err != nil {
		return "", err
	}
	return st.AddTreeWithReferences("profile", out, append(refs, linked...))
}

// linkedPaths returns the store paths the symbolic links of the tree at
// root point into.
func linkedPaths(st *local.Store, root string) ([]string, error) {
	dir := st.StoreDir()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(target, string(dir)+"/")
		if !ok {
			return nil
		}
		base, _, _ := strings.Cut(rest, "/")
		sp, err := dir.ParsePath(string(dir) + "/" + base)
		if err != nil {
			return nil
		}
		out = append(out, dir.Path(sp))
		return nil
	})
	return out, err
}
