package image

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ExtraFile is a file system object the customisation layer adds to the
// image, over the symbolic links made for the contents.
type ExtraFile struct {
	// Path is the absolute path in the image ("/etc/passwd").
	Path string `json:"path"`
	// Type is "file" (the default), "directory" or "symlink".
	Type string `json:"type,omitempty"`
	// Text is the contents of a file made from text.
	Text *string `json:"text,omitempty"`
	// Source is a file or directory (usually a store path) copied to
	// Path, instead of Text; directories are copied whole, with store
	// modes.
	Source string `json:"source,omitempty"`
	// Target is the target of a symbolic link.
	Target string `json:"target,omitempty"`
	// Mode is the octal permission string ("0644", "1777"); the default
	// is 0755 for directories and executable sources, else 0644.
	Mode string `json:"mode,omitempty"`
	// UID and GID own the object (default 0).
	UID int `json:"uid,omitempty"`
	GID int `json:"gid,omitempty"`
}

// node is an entry of the customisation layer's tree.
type node struct {
	kind     byte // 'd' directory, 'f' file from data, 'c' copy of src, 'l' symlink
	mode     int64
	uid, gid int
	data     []byte
	src      string
	link     string
	linkDir  bool   // a symlink made for a contents directory, which may be expanded
	origin   string // the contents path a symlink came from (for messages)
	children map[string]*node
}

func newDir(mode int64) *node { return &node{kind: 'd', mode: mode, children: map[string]*node{}} }

// customTree is the customisation layer: symbolic links to the contents'
// top-level directories' entries, merged like buildEnv, then the extra
// files.
type customTree struct {
	root *node
	log  io.Writer
}

func newCustomTree(log io.Writer) *customTree {
	return &customTree{root: newDir(0o755), log: log}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// addContents links the entries of each contents path's top-level
// directories into same-named real directories (/bin/sh →
// <busybox>/bin/sh), and its top-level files at the root. Directories
// that several contents have are merged; on a collision the first
// contents path wins.
func (t *customTree) addContents(contents []string) error {
	for _, c := range contents {
		if !isDir(c) {
			fmt.Fprintf(t.log, "warning: contents '%s' is not a directory; it is in the image but has no links\n", c)
			continue
		}
		names, err := readDirNames(c)
		if err != nil {
			return err
		}
		for _, n := range names {
			src := filepath.Join(c, n)
			existing := t.root.children[n]
			if isDir(src) {
				if existing == nil {
					existing = newDir(0o755)
					t.root.children[n] = existing
				}
				if existing.kind != 'd' {
					fmt.Fprintf(t.log, "warning: collision at '/%s': keeping the one from '%s', ignoring '%s'\n", n, existing.origin, c)
					continue
				}
				if err := t.merge(existing, "/"+n, src, c); err != nil {
					return err
				}
				continue
			}
			if existing != nil {
				fmt.Fprintf(t.log, "warning: collision at '/%s': keeping the one from '%s', ignoring '%s'\n", n, existing.origin, c)
				continue
			}
			t.root.children[n] = &node{kind: 'l', link: src, origin: c}
		}
	}
	return nil
}

// merge links the entries of directory src into dir, expanding
// directory links that collide with another directory.
func (t *customTree) merge(dir *node, at, src, origin string) error {
	names, err := readDirNames(src)
	if err != nil {
		return err
	}
	for _, n := range names {
		s := filepath.Join(src, n)
		sIsDir := isDir(s)
		existing := dir.children[n]
		switch {
		case existing == nil:
			dir.children[n] = &node{kind: 'l', link: s, linkDir: sIsDir, origin: origin}
		case existing.kind == 'l' && existing.linkDir && sIsDir:
			expanded := newDir(0o755)
			if err := t.merge(expanded, at+"/"+n, existing.link, existing.origin); err != nil {
				return err
			}
			if err := t.merge(expanded, at+"/"+n, s, origin); err != nil {
				return err
			}
			dir.children[n] = expanded
		case existing.kind == 'd' && sIsDir:
			if err := t.merge(existing, at+"/"+n, s, origin); err != nil {
				return err
			}
		default:
			fmt.Fprintf(t.log, "warning: collision at '%s/%s': keeping the one from '%s', ignoring '%s'\n", at, n, existing.origin, origin)
		}
	}
	return nil
}

// addExtra adds an extra file, replacing what is at its path and
// turning the directory links above it into real directories.
func (t *customTree) addExtra(f ExtraFile) error {
	clean := path.Clean("/" + f.Path)
	if !strings.HasPrefix(f.Path, "/") || clean == "/" {
		return fmt.Errorf("extra file path '%s' must be absolute and not '/'", f.Path)
	}
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	dir := t.root
	for i, p := range parts[:len(parts)-1] {
		child := dir.children[p]
		switch {
		case child == nil:
			child = newDir(0o755)
			dir.children[p] = child
		case child.kind == 'l' && child.linkDir:
			expanded := newDir(0o755)
			if err := t.merge(expanded, "/"+strings.Join(parts[:i+1], "/"), child.link, child.origin); err != nil {
				return err
			}
			dir.children[p] = expanded
			child = expanded
		case child.kind != 'd':
			return fmt.Errorf("extra file '%s': '/%s' is not a directory", f.Path, strings.Join(parts[:i+1], "/"))
		}
		dir = child
	}
	var mode int64 = -1
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil || m > 0o7777 {
			return fmt.Errorf("extra file '%s': invalid mode '%s'", f.Path, f.Mode)
		}
		mode = int64(m)
	}
	n := &node{uid: f.UID, gid: f.GID, origin: "extraFiles"}
	switch f.Type {
	case "", "file":
		switch {
		case f.Text != nil && f.Source != "":
			return fmt.Errorf("extra file '%s' has both text and source", f.Path)
		case f.Text != nil:
			n.kind, n.data, n.mode = 'f', []byte(*f.Text), 0o644
		case f.Source != "":
			fi, err := os.Stat(f.Source)
			if err != nil {
				return fmt.Errorf("extra file '%s': %w", f.Path, err)
			}
			n.kind, n.src, n.mode = 'c', f.Source, 0o644
			if fi.IsDir() || fi.Mode().Perm()&0o111 != 0 {
				n.mode = 0o755
			}
		default:
			n.kind, n.mode = 'f', 0o644
		}
	case "directory":
		existing := dir.children[parts[len(parts)-1]]
		if existing != nil && existing.kind == 'd' {
			n = existing
			n.uid, n.gid = f.UID, f.GID
		} else {
			n.kind, n.children = 'd', map[string]*node{}
		}
		n.mode = 0o755
	case "symlink":
		if f.Target == "" {
			return fmt.Errorf("extra file '%s': a symlink needs a target", f.Path)
		}
		n.kind, n.link, n.mode = 'l', f.Target, 0o777
	default:
		return fmt.Errorf("extra file '%s': unknown type '%s' (file, directory or symlink)", f.Path, f.Type)
	}
	if mode >= 0 && n.kind != 'l' {
		n.mode = mode
	}
	dir.children[parts[len(parts)-1]] = n
	return nil
}

// write writes the tree as a tar, root excluded.
func (t *customTree) write(w io.Writer, mtime time.Time, buf []byte) error {
	tw := newTarWriter(w, mtime, buf)
	if err := t.writeNode(tw, "", t.root); err != nil {
		return err
	}
	return tw.tw.Close()
}

func (t *customTree) writeNode(tw *tarWriter, name string, n *node) error {
	switch n.kind {
	case 'd':
		if name != "" {
			if err := tw.dir(name, n.mode, n.uid, n.gid); err != nil {
				return err
			}
		}
		names := make([]string, 0, len(n.children))
		for k := range n.children {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			child := name + "/" + k
			if name == "" {
				child = k
			}
			if err := t.writeNode(tw, child, n.children[k]); err != nil {
				return err
			}
		}
		return nil
	case 'f':
		return tw.bytesFile(name, n.mode, n.data, n.uid, n.gid)
	case 'l':
		return tw.symlink(name, n.link, n.uid, n.gid)
	case 'c':
		return tw.copyOwned(name, n.src, n.mode, n.uid, n.gid)
	}
	return fmt.Errorf("internal error: node kind %q", n.kind)
}

// copyOwned copies src (a file or a tree) to name with the given owner;
// mode applies to the top object, the rest keeps store modes.
func (t *tarWriter) copyOwned(name, src string, mode int64, uid, gid int) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		return t.copyFile(name, src, mode, fi.Size(), uid, gid)
	}
	if !fi.IsDir() {
		return fmt.Errorf("'%s' is neither a file nor a directory", src)
	}
	if err := t.dir(name, mode, uid, gid); err != nil {
		return err
	}
	names, err := readDirNames(src)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := t.treeOwned(name+"/"+n, filepath.Join(src, n), uid, gid, true); err != nil {
			return err
		}
	}
	return nil
}
