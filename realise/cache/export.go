package cache

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// exportMagic follows each NAR in an export stream ("NIXE").
const exportMagic = 0x4558494e

// maxExportString bounds the strings of an export stream other than NAR
// contents (store paths), so a corrupt length cannot exhaust memory.
const maxExportString = 4096

// TopoSortPaths orders paths so that every path comes after the paths
// among them it refers to, exactly as Nix orders nix-store --export
// output: a depth-first walk in sorted order, emitting a path after its
// references. Paths that are not valid have no references.
func TopoSortPaths(st *local.Store, paths []string) ([]string, error) {
	items := map[string]bool{}
	for _, p := range paths {
		items[p] = true
	}
	var sorted []string
	visited, parents := map[string]bool{}, map[string]bool{}
	var visit func(p, parent string) error
	visit = func(p, parent string) error {
		if parents[p] {
			return fmt.Errorf("cycle detected in the references of '%s' from '%s'", p, parent)
		}
		if visited[p] {
			return nil
		}
		visited[p] = true
		parents[p] = true
		refs, err := st.QueryReferences(p)
		var invalid *local.InvalidPathError
		if errors.As(err, &invalid) {
			refs, err = nil, nil
		}
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r != p && items[r] {
				if err := visit(r, p); err != nil {
					return err
				}
			}
		}
		sorted = append(sorted, p)
		delete(parents, p)
		return nil
	}
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range items {
			if !yield(p) {
				return
			}
		}
	}) {
		if err := visit(p, ""); err != nil {
			return nil, err
		}
	}
	return sorted, nil
}

// Export writes paths (valid store paths; not their closure) to w in the
// format of nix-store --export, byte for byte as Nix 2.8 writes it: for
// each path in TopoSortPaths order, 1, its NAR, the magic "NIXE", the
// path, its references, its deriver and 0 (no legacy signature); then 0.
// As Nix, it refuses a path whose contents no longer match its recorded
// NAR hash.
func Export(w io.Writer, st *local.Store, paths []string) error {
	for _, p := range paths {
		if err := st.AddTempRoot(p); err != nil {
			return err
		}
	}
	sorted, err := TopoSortPaths(st, paths)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, p := range sorted {
		info, err := st.QueryPathInfo(p)
		if err != nil {
			return err
		}
		writeU64(bw, 1)
		h := nixhash.SHA256.New()
		if _, err := store.DumpPath(io.MultiWriter(bw, h), p, nil); err != nil {
			return err
		}
		if got := nixhash.FromSum(nixhash.SHA256, h.Sum(nil)); got != info.NarHash {
			return fmt.Errorf("hash of path '%s' has changed from '%s' to '%s'", p, info.NarHash, got)
		}
		writeU64(bw, exportMagic)
		writeString(bw, p)
		writeU64(bw, uint64(len(info.References)))
		for _, r := range info.References {
			writeString(bw, r)
		}
		writeString(bw, info.Deriver)
		writeU64(bw, 0)
	}
	writeU64(bw, 0)
	return bw.Flush()
}

func writeU64(w *bufio.Writer, n uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	w.Write(b[:])
}

func writeString(w *bufio.Writer, s string) {
	writeU64(w, uint64(len(s)))
	w.WriteString(s)
	var pad [8]byte
	w.Write(pad[:(8-len(s)%8)%8])
}

// exportReader reads the framing of an export stream.
type exportReader struct {
	r   *bufio.Reader
	buf [8]byte
}

func (e *exportReader) u64() (uint64, error) {
	if _, err := io.ReadFull(e.r, e.buf[:]); err != nil {
		return 0, unexpectedEOF(err)
	}
	return binary.LittleEndian.Uint64(e.buf[:]), nil
}

func (e *exportReader) string() (string, error) {
	n, err := e.u64()
	if err != nil {
		return "", err
	}
	if n > maxExportString {
		return "", fmt.Errorf("string of %d bytes in the stream is too long", n)
	}
	b := make([]byte, n+(8-n%8)%8)
	if _, err := io.ReadFull(e.r, b); err != nil {
		return "", unexpectedEOF(err)
	}
	for _, c := range b[n:] {
		if c != 0 {
			return "", errors.New("non-zero padding in the stream")
		}
	}
	return string(b[:n]), nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of the stream")
	}
	return err
}

// Import reads a stream written by Export or nix-store --export and adds
// its paths to st, returning them in stream order (including those that
// were valid already). Every NAR must be well formed, every path and
// reference a store path of st's store directory, every reference valid
// or in the stream, and paths whose store path shows they are content
// addressed (.drv files and other text paths, source paths, flat SHA-256
// paths) get their content address recorded. The NAR hash recorded is
// that of the restored contents. Nothing is registered unless the whole
// stream is read without error: the paths are restored into a staging
// directory and registered together in one transaction at the end.
func Import(r io.Reader, st *local.Store) ([]string, error) {
	in, err := newInstaller(st)
	if err != nil {
		return nil, err
	}
	defer in.close()
	er := &exportReader{r: bufio.NewReaderSize(r, 64<<10)}
	dir := st.StoreDir()
	var (
		result []string
		items  []staged
		seen   = map[string]bool{}
	)
	for i := 1; ; i++ {
		fail := func(err error) ([]string, error) {
			return nil, fmt.Errorf("importing path #%d: %w; nothing was imported", i, err)
		}
		n, err := er.u64()
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			break
		}
		if n != 1 {
			return fail(errors.New("input doesn't look like something created by 'nix-store --export'"))
		}
		tree := in.newTree()
		if err := store.RestorePath(er.r, tree); err != nil {
			return fail(err)
		}
		magic, err := er.u64()
		if err != nil {
			return fail(err)
		}
		if magic != exportMagic {
			return fail(errors.New("Nix archive cannot be imported; wrong format"))
		}
		p, err := er.string()
		if err != nil {
			return fail(err)
		}
		sp, err := dir.ParsePath(p)
		if err != nil {
			return fail(err)
		}
		p = dir.Path(sp)
		nrefs, err := er.u64()
		if err != nil {
			return fail(err)
		}
		if nrefs > 1<<20 {
			return fail(fmt.Errorf("'%s' has %d references", p, nrefs))
		}
		refs := make([]string, 0, nrefs)
		for range nrefs {
			r, err := er.string()
			if err != nil {
				return fail(err)
			}
			rp, err := dir.ParsePath(r)
			if err != nil {
				return fail(fmt.Errorf("reference of '%s': %w", p, err))
			}
			refs = append(refs, dir.Path(rp))
		}
		slices.Sort(refs)
		refs = slices.Compact(refs)
		deriver, err := er.string()
		if err != nil {
			return fail(err)
		}
		if deriver != "" {
			dp, err := dir.ParsePath(deriver)
			if err != nil {
				return fail(fmt.Errorf("deriver of '%s': %w", p, err))
			}
			deriver = dir.Path(dp)
		}
		legacySig, err := er.u64()
		if err != nil {
			return fail(err)
		}
		if legacySig == 1 {
			if _, err := er.string(); err != nil {
				return fail(err)
			}
		} else if legacySig != 0 {
			return fail(errors.New("input doesn't look like something created by 'nix-store --export'"))
		}
		result = append(result, p)
		valid, err := st.IsValidPath(p)
		if err != nil {
			return fail(err)
		}
		if valid || seen[p] {
			if _, err := removeTree(tree); err != nil {
				return fail(err)
			}
			continue
		}
		seen[p] = true
		narHash, narSize, err := store.HashPath(nixhash.SHA256, tree, nil)
		if err != nil {
			return fail(err)
		}
		ca := guessContentAddress(dir, p, refs, narHash, tree)
		if err := in.prepare(tree); err != nil {
			return fail(err)
		}
		items = append(items, staged{tree: tree, info: &local.PathInfo{
			Path: p, NarHash: narHash, NarSize: narSize, References: refs, Deriver: deriver, CA: ca,
		}})
	}
	for _, it := range items {
		for _, r := range it.info.References {
			if seen[r] {
				continue
			}
			valid, err := st.IsValidPath(r)
			if err != nil {
				return nil, err
			}
			if !valid {
				return nil, fmt.Errorf("cannot import '%s': it refers to '%s', which is neither valid nor in the stream; nothing was imported", it.info.Path, r)
			}
		}
	}
	if _, err := in.commit(items); err != nil {
		return nil, fmt.Errorf("importing: %w; nothing was imported", err)
	}
	return result, nil
}
