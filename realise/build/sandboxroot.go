package build

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/sandbox"
)

// sandboxRootAttr is the derivation attribute naming a root file
// system for the builder (see "Root file systems" in the package
// documentation).
const sandboxRootAttr = "sandboxRoot"

// sandboxRoot returns the derivation's sandboxRoot attribute ("" when it
// has none), checked: an absolute path in a store path of the input
// closure, below which no symbolic link is followed, naming a
// directory.
func (b *Builder) sandboxRoot(drvPath string, drv *derivation.Derivation, inputs []string) (string, error) {
	root, ok := drv.Env[sandboxRootAttr]
	if js, structured := drv.Env["__json"]; structured {
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal([]byte(js), &attrs); err != nil {
			return "", fmt.Errorf("cannot process __json attribute of '%s': %w", drv.Name, err)
		}
		raw, has := attrs[sandboxRootAttr]
		ok = has && string(raw) != "null"
		if ok {
			if err := json.Unmarshal(raw, &root); err != nil {
				return "", fmt.Errorf("the attribute '%s' of '%s' must be a string", sandboxRootAttr, drvPath)
			}
		}
	}
	if !ok {
		return "", nil
	}
	fail := func(format string, args ...any) error {
		return &Failure{DrvPath: drvPath, Msg: fmt.Sprintf("the sandboxRoot of '%s', '%s', ", drvPath, root) + fmt.Sprintf(format, args...)}
	}
	if !filepath.IsAbs(root) {
		return "", fail("is not an absolute path")
	}
	root = filepath.Clean(root)
	sp, err := b.store.ToStorePath(root)
	if err != nil {
		return "", fail("is not in the store")
	}
	if !slices.Contains(inputs, sp) {
		return "", fail("is not in the derivation's input closure (use a string with its context, \"${rootfs}\")")
	}
	p := sp
	for _, c := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(root, sp), "/"), "/") {
		if c != "" {
			p = filepath.Join(p, c)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return "", fail("cannot be read: %v", err)
		}
		if !fi.IsDir() {
			return "", fail("is not a directory (or leads through a symbolic link)")
		}
	}
	return root, nil
}

// rootFSSpec turns the sandbox of spec into one whose "/" is the root
// file system rootFS: the /etc files of root move to overlay (laid over
// the image's /etc; passwd and group keep the image's entries after
// Nix's), the store directory root/<store>, where the outputs are
// produced, becomes a writable mount that shows the image's own store
// paths too, and the host's sandbox paths are not mounted: the builder
// sees only the image, the input closure, the build directory and the
// outputs.
func (b *Builder) rootFSSpec(spec *sandbox.Spec, rootFS, overlay string, hostPaths []sandbox.Mount) error {
	etc := filepath.Join(overlay, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(spec.Root, "etc"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(spec.Root, "etc", e.Name()))
		if err != nil {
			return err
		}
		if e.Name() == "passwd" || e.Name() == "group" {
			data = appendImageEntries(data, filepath.Join(rootFS, "etc", e.Name()))
		}
		if err := os.WriteFile(filepath.Join(etc, e.Name()), data, 0o444); err != nil {
			return err
		}
	}
	mounts := []sandbox.Mount{{Source: filepath.Join(spec.Root, string(b.dir)), Target: string(b.dir), Writable: true, MergeRootFS: true}}
	for _, m := range spec.Mounts {
		if slices.Contains(hostPaths, m) {
			continue
		}
		mounts = append(mounts, m)
	}
	spec.Mounts = mounts
	spec.Root = overlay
	spec.RootFS = rootFS
	return nil
}

// appendImageEntries adds to Nix's /etc/passwd or /etc/group the lines
// of the image's file whose names it does not define (the image's file
// is read only if it is a regular file, never through a link).
func appendImageEntries(nix []byte, imageFile string) []byte {
	fi, err := os.Lstat(imageFile)
	if err != nil || !fi.Mode().IsRegular() {
		return nix
	}
	data, err := os.ReadFile(imageFile)
	if err != nil {
		return nix
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(nix), "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok {
			names[name] = true
		}
	}
	out := bytes.NewBuffer(slices.Clone(nix))
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") || names[name] {
			continue
		}
		names[name] = true
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}
