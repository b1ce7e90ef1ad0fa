package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/nixl-project/nixl/realise/fetch"
)

// RootFSSpec describes an image to unpack into a root file system.
type RootFSSpec struct {
	// Image is an OCI image layout directory (image.pull's, image.build's
	// or image.index's output) or an OCI or Docker archive (docker save).
	Image string
	// Platform chooses the image of an index, and is checked against a
	// single image's (nil: the only one, whatever its platform).
	Platform *Platform
	// ScratchDir is where an archive is unpacked (default: a temporary
	// directory).
	ScratchDir string
	Log        io.Writer
}

// RootFSStats counts what unpacking did.
type RootFSStats struct {
	Layers  int
	Entries int
	// Skipped counts the entries that cannot be in the store: device
	// nodes and FIFOs.
	Skipped int
	// Config is the image's runtime configuration.
	Config RuntimeConfig
}

// UnpackRootFS unpacks the image of spec into out (which must not
// exist): its layers applied in order, with their whiteouts (".wh.NAME"
// deletes NAME of the layers below, ".wh..wh..opq" empties a directory
// of what the layers below put there). Owners, extended attributes,
// times and the setuid, setgid and sticky bits are not kept, and device
// nodes and FIFOs are left out, so the tree is what the store can hold
// once canonicalised; entries never lead out of out (a symbolic link
// met on the way to an entry is resolved inside out, as in the image).
// Each layer's uncompressed digest is checked against the
// configuration's diff_ids.
func UnpackRootFS(ctx context.Context, spec *RootFSSpec, out string) (*RootFSStats, error) {
	log := spec.Log
	if log == nil {
		log = io.Discard
	}
	scratch := spec.ScratchDir
	if scratch == "" {
		d, err := os.MkdirTemp("", "nixl-rootfs-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	img, err := openBase(spec.Image, spec.Platform, scratch)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return nil, err
	}
	stats := &RootFSStats{Layers: len(img.layers), Config: img.config.Config}
	buf := make([]byte, 1<<20)
	for i, d := range img.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file, err := img.blob(d)
		if err != nil {
			return nil, err
		}
		diffID := ""
		if i < len(img.diffIDs) {
			diffID = img.diffIDs[i]
		}
		a := &layerApplier{root: out, created: map[string]bool{}, buf: buf, ctx: ctx}
		if err := a.apply(file, diffID); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i+1, d.Digest, err)
		}
		fmt.Fprintf(log, "layer %d/%d: %s: %d entries", i+1, len(img.layers), d.Digest, a.entries)
		if a.skipped > 0 {
			fmt.Fprintf(log, ", %d device nodes or FIFOs left out", a.skipped)
		}
		fmt.Fprintln(log)
		stats.Entries += a.entries
		stats.Skipped += a.skipped
	}
	return stats, nil
}

// layerApplier applies one layer to the tree at root.
type layerApplier struct {
	root string
	// created holds the paths (as the layer names them, and their
	// parents) that this layer put in the tree: an opaque whiteout
	// keeps them and removes the rest.
	created          map[string]bool
	entries, skipped int
	buf              []byte
	ctx              context.Context
}

func (a *layerApplier) apply(file, diffID string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(8)
	r, closeFn, err := fetch.Decompress(br, fetch.DetectCompression(head))
	if err != nil {
		return err
	}
	defer closeFn()
	h := newCountingHash()
	tr := tar.NewReader(io.TeeReader(r, h))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if a.entries%1024 == 0 {
			if err := a.ctx.Err(); err != nil {
				return err
			}
		}
		if err := a.entry(hdr, tr); err != nil {
			return fmt.Errorf("'%s': %w", hdr.Name, err)
		}
	}
	// The digest covers the whole tar, padding included.
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if diffID != "" && h.digest() != diffID {
		return fmt.Errorf("its content has digest %s, but the configuration's diff_id is %s", h.digest(), diffID)
	}
	return nil
}

// cleanName turns a tar entry name into a path relative to the root
// ("" for the root itself), refusing names that climb out of it.
func cleanName(name string) (string, error) {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("the name climbs out of the root")
		}
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), nil
}

// markCreated records rel and its parents as put there by this layer.
func (a *layerApplier) markCreated(rel string) {
	for p := rel; p != "." && p != "" && p != "/"; p = path.Dir(p) {
		if a.created[p] {
			return
		}
		a.created[p] = true
	}
}

func (a *layerApplier) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	if rel == "" {
		return nil // the root directory itself: its mode is the store's
	}
	a.entries++
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if base == ".wh..wh..opq" {
		abs, err := a.resolveDir(dir, false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return a.purge(abs, dir)
	}
	if name, ok := strings.CutPrefix(base, ".wh."); ok {
		hidden := path.Join(dir, name)
		if a.created[hidden] {
			return nil
		}
		abs, err := a.resolveDir(dir, false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.RemoveAll(filepath.Join(abs, name))
	}
	switch hdr.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		a.skipped++
		return nil
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
	default:
		a.skipped++
		return nil
	}
	parent, err := a.resolveDir(dir, true)
	if err != nil {
		return err
	}
	dst := filepath.Join(parent, base)
	a.markCreated(rel)
	existing, err := os.Lstat(dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		if existing != nil && existing.IsDir() {
			return nil
		}
		if existing != nil {
			if err := os.RemoveAll(dst); err != nil {
				return err
			}
		}
		return os.Mkdir(dst, 0o755)
	}
	if existing != nil {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		return os.Symlink(hdr.Linkname, dst)
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("bad hard link target '%s'", hdr.Linkname)
		}
		tdir, tbase := path.Split(target)
		tparent, err := a.resolveDir(strings.TrimSuffix(tdir, "/"), false)
		if err != nil {
			return fmt.Errorf("hard link target '%s': %w", hdr.Linkname, err)
		}
		src := filepath.Join(tparent, tbase)
		fi, err := os.Lstat(src)
		if err != nil {
			return fmt.Errorf("hard link target '%s': %w", hdr.Linkname, err)
		}
		if fi.IsDir() {
			return fmt.Errorf("hard link target '%s' is a directory", hdr.Linkname)
		}
		if err := os.Link(src, dst); err == nil {
			return nil
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(src)
			if err != nil {
				return err
			}
			return os.Symlink(link, dst)
		}
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		return a.writeFile(dst, fi.Mode()&0o111 != 0, in)
	default:
		return a.writeFile(dst, hdr.Mode&0o111 != 0, r)
	}
}

func (a *layerApplier) writeFile(dst string, executable bool, r io.Reader) error {
	mode := fs.FileMode(0o644)
	if executable {
		mode = 0o755
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(onlyWriter{f}, r, a.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// purge removes from the directory abs (the layer's rel) everything
// that this layer did not put there: an opaque whiteout hides the
// layers below.
func (a *layerApplier) purge(abs, rel string) error {
	entries, err := os.ReadDir(abs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		childRel := path.Join(rel, e.Name())
		child := filepath.Join(abs, e.Name())
		if !a.created[childRel] {
			if err := os.RemoveAll(child); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() {
			if err := a.purge(child, childRel); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveDir returns the directory of the tree that rel names, following
// symbolic links as the image would, inside the root ("/" and ".." never
// lead out of it). With create, missing directories are made, and a
// file in the way is replaced by a directory.
func (a *layerApplier) resolveDir(rel string, create bool) (string, error) {
	var stack []string
	todo := strings.Split(rel, "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		p := filepath.Join(a.root, filepath.Join(stack...), c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !create {
				return "", err
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			if links++; links > 255 {
				return "", fmt.Errorf("too many levels of symbolic links in '%s'", rel)
			}
			target, err := os.Readlink(p)
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(target, "/") {
				stack = stack[:0]
			}
			todo = append(strings.Split(target, "/"), todo...)
			continue
		case !fi.IsDir():
			if !create {
				return "", &fs.PathError{Op: "open", Path: rel, Err: errors.New("not a directory")}
			}
			if err := os.Remove(p); err != nil {
				return "", err
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", err
			}
		}
		stack = append(stack, c)
	}
	return filepath.Join(a.root, filepath.Join(stack...)), nil
}

// RootFSBuiltin is builtin:oci-rootfs, the builder of image.rootfs: the
// image at the attribute image (an OCI image layout or an OCI or Docker
// archive; for an index, the image of the derivation's system) unpacked
// into the output out by UnpackRootFS. When the derivation has an output
// named config, the image's runtime configuration goes there:
// config.json (its "config" object) and env (its Env, one NAME=value a
// line, leaving out values with a newline and names a shell cannot
// export).
func RootFSBuiltin(c *BuildContext) error {
	out, err := c.out()
	if err != nil {
		return err
	}
	src := c.Env["image"]
	if src == "" {
		return fmt.Errorf("the derivation has no attribute 'image'")
	}
	system := c.Env["system"]
	if system == "" && c.Drv != nil {
		system = c.Drv.Platform
	}
	var want *Platform
	if system != "" {
		p, err := PlatformOf(system)
		if err != nil {
			return err
		}
		want = &p
	}
	scratch := ""
	if c.BuildDir != "" {
		scratch = filepath.Join(c.BuildDir, "rootfs-scratch")
		if err := os.MkdirAll(scratch, 0o700); err != nil {
			return err
		}
	}
	stats, err := UnpackRootFS(c.ctx(), &RootFSSpec{Image: src, Platform: want, ScratchDir: scratch, Log: c.log()}, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.log(), "%d layers, %d entries", stats.Layers, stats.Entries)
	if stats.Skipped > 0 {
		fmt.Fprintf(c.log(), " (%d device nodes or FIFOs left out)", stats.Skipped)
	}
	fmt.Fprintln(c.log())
	if cfgOut := c.Outputs["config"]; cfgOut != "" {
		return writeRuntimeConfig(cfgOut, stats.Config)
	}
	return nil
}

// envName is a variable name a POSIX shell can export.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// writeRuntimeConfig writes config.json and env into dir.
func writeRuntimeConfig(dir string, rc RuntimeConfig) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	data, err := canonicalJSON(rc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var env strings.Builder
	for _, kv := range rc.Env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || strings.Contains(kv, "\n") || !envName.MatchString(name) {
			continue
		}
		env.WriteString(kv + "\n")
	}
	return os.WriteFile(filepath.Join(dir, "env"), []byte(env.String()), 0o644)
}
