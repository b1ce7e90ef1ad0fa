package cache

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// Substituter fetches store paths from binary caches into a local store,
// as Nix's substitution goals do. Set its fields before the first call;
// its methods may then be called concurrently.
type Substituter struct {
	// Caches are asked in the order of their nix-cache-info Priority
	// (lower first), caches of equal priority in the order given.
	Caches []*Cache
	// TrustedKeys verify narinfo signatures: a narinfo is used only if one
	// of its signatures is by a trusted key, or if the path is content
	// addressed and its store path follows from its content address.
	TrustedKeys signing.Keyring
	// NoCheckSigs accepts unsigned narinfos (Nix's require-sigs = false).
	NoCheckSigs bool
	// Jobs is how many paths are downloaded at once (default 4).
	Jobs int
	// Progress, if set, is told about each path substituted; it may be
	// called from several goroutines at once.
	Progress func(Event)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// Started: the download of Path from Cache begins; Total is its NAR size.
	Started EventKind = iota
	// Receiving: Bytes of the Total NAR bytes have been received and
	// restored (reported about every MiB).
	Receiving
	// Done: Path is valid in the store.
	Done
	// Failed: Path could not be substituted from Cache (Err says why);
	// another cache may be tried next.
	Failed
)

// Event is one progress report of Substitute.
type Event struct {
	Kind  EventKind
	Path  string
	Cache string
	Bytes int64
	Total int64
	Err   error
}

// Substitutable says where a path can be substituted from.
type Substitutable struct {
	Cache   *Cache
	NarInfo *NarInfo
	// index is the position of Cache in the sorted caches.
	index int
}

// sortedCaches returns the caches in priority order, with reasons for
// those whose nix-cache-info cannot be read or whose StoreDir differs.
func (s *Substituter) sortedCaches(ctx context.Context, dir store.Dir) ([]*Cache, []string) {
	type entry struct {
		c        *Cache
		priority int
	}
	var ok []entry
	var problems []string
	for _, c := range s.Caches {
		ci, err := c.Info(ctx)
		if err == nil {
			err = c.checkStoreDir(ctx, dir)
		}
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		ok = append(ok, entry{c, ci.Priority})
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].priority < ok[j].priority })
	out := make([]*Cache, len(ok))
	for i, e := range ok {
		out[i] = e.c
	}
	return out, problems
}

// lookup asks the caches from index start on for path, returning the
// first trusted narinfo, or nil and the reasons why none was usable.
func (s *Substituter) lookup(ctx context.Context, caches []*Cache, dir store.Dir, path string, start int) (*Substitutable, []string) {
	var reasons []string
	for i := start; i < len(caches); i++ {
		c := caches[i]
		ni, err := c.NarInfo(ctx, dir, path)
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		if ni == nil {
			continue
		}
		if !s.NoCheckSigs && !ni.Trusted(dir, s.TrustedKeys) {
			reasons = append(reasons, fmt.Sprintf("substituter '%s' does not have a valid signature for path '%s'", c.url, path))
			continue
		}
		return &Substitutable{Cache: c, NarInfo: ni, index: i}, nil
	}
	return nil, reasons
}

// Query returns, for each of paths (absolute paths of dir) that a cache
// has with a trusted narinfo, where to substitute it from. Paths no cache
// has are absent from the result; that is not an error.
func (s *Substituter) Query(ctx context.Context, dir store.Dir, paths []string) (map[string]*Substitutable, error) {
	caches, _ := s.sortedCaches(ctx, dir)
	out := map[string]*Substitutable{}
	var mu sync.Mutex
	err := parallel(ctx, s.jobs(), paths, func(p string) error {
		if found, _ := s.lookup(ctx, caches, dir, p, 0); found != nil {
			mu.Lock()
			out[p] = found
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

func (s *Substituter) jobs() int {
	if s.Jobs > 0 {
		return s.Jobs
	}
	return 4
}

// parallel calls f for each item with at most n running at once and
// returns when all are done.
func parallel(ctx context.Context, n int, items []string, f func(string) error) error {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// subNode is one path to substitute.
type subNode struct {
	path       string
	found      *Substitutable
	deps       []string // references to substitute first
	dependents []string
	pending    int
	failed     error
}

// Substitute makes paths (absolute store paths of dst) valid by
// substituting them and the parts of their closure that dst lacks: it
// queries the caches (in priority order, for a narinfo with a trusted
// signature), then downloads several paths at once, references before
// their referrers; each NAR is decompressed, restored into a staging
// directory, checked against the narinfo's NarHash and NarSize (and
// FileHash and content address, when given), and only then renamed into
// place and registered with its references, deriver, signatures and
// content address. A path that fails with one cache is tried with the
// next that has it. Paths already valid are skipped.
//
// It returns the paths it made valid, and an error naming every path that
// could not be substituted (paths whose references could not be are not
// attempted).
func (s *Substituter) Substitute(ctx context.Context, dst *local.Store, paths []string) ([]string, error) {
	dir := dst.StoreDir()
	caches, problems := s.sortedCaches(ctx, dir)
	nodes := map[string]*subNode{}
	missing := map[string][]string{} // unavailable path → reasons
	var order []string
	// Discover the closure, one wave of parallel queries at a time.
	var frontier []string
	for _, p := range paths {
		if _, err := dir.ParsePath(p); err != nil {
			return nil, err
		}
		if valid, err := dst.IsValidPath(p); err != nil {
			return nil, err
		} else if !valid && nodes[p] == nil && !slices.Contains(frontier, p) {
			frontier = append(frontier, p)
		}
	}
	for len(frontier) > 0 {
		var mu sync.Mutex
		found := map[string]*Substitutable{}
		err := parallel(ctx, s.jobs(), frontier, func(p string) error {
			f, reasons := s.lookup(ctx, caches, dir, p, 0)
			mu.Lock()
			defer mu.Unlock()
			if f == nil {
				missing[p] = append(slices.Clone(problems), reasons...)
			} else {
				found[p] = f
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		var next []string
		for _, p := range frontier {
			f := found[p]
			if f == nil {
				continue
			}
			n := &subNode{path: p, found: f}
			nodes[p] = n
			order = append(order, p)
			for _, r := range f.NarInfo.References {
				if r == p {
					continue
				}
				valid, err := dst.IsValidPath(r)
				if err != nil {
					return nil, err
				}
				if valid {
					continue
				}
				n.deps = append(n.deps, r)
				if nodes[r] == nil && missing[r] == nil && !slices.Contains(next, r) && !slices.Contains(frontier, r) {
					next = append(next, r)
				}
			}
		}
		frontier = next
	}

	var failures []error
	var fail func(n *subNode, err error)
	fail = func(n *subNode, err error) {
		if n.failed != nil {
			return
		}
		n.failed = err
		failures = append(failures, err)
		for _, d := range n.dependents {
			fail(nodes[d], fmt.Errorf("cannot substitute '%s': its reference '%s' could not be substituted", d, n.path))
		}
	}
	for _, p := range order {
		n := nodes[p]
		for _, d := range n.deps {
			if dep := nodes[d]; dep != nil {
				dep.dependents = append(dep.dependents, p)
				n.pending++
			}
		}
	}
	var missingPaths []string
	for p := range missing {
		missingPaths = append(missingPaths, p)
	}
	slices.Sort(missingPaths)
	for _, p := range missingPaths {
		msg := fmt.Sprintf("path '%s' is not available from any substituter", p)
		if reasons := missing[p]; len(reasons) > 0 {
			msg += ": " + strings.Join(reasons, "; ")
		}
		failures = append(failures, errors.New(msg))
		for _, q := range order {
			if n := nodes[q]; slices.Contains(n.deps, p) {
				fail(n, fmt.Errorf("cannot substitute '%s': its reference '%s' is not available", q, p))
			}
		}
	}

	in, err := newInstaller(dst)
	if err != nil {
		return nil, err
	}
	defer in.close()
	type result struct {
		n     *subNode
		added bool
		err   error
	}
	results := make(chan result)
	var ready []*subNode
	for _, p := range order {
		if n := nodes[p]; n.pending == 0 && n.failed == nil {
			ready = append(ready, n)
		}
	}
	var substituted []string
	running := 0
	for len(ready) > 0 || running > 0 {
		for running < s.jobs() && len(ready) > 0 && ctx.Err() == nil {
			n := ready[0]
			ready = ready[1:]
			running++
			go func() {
				added, err := s.substituteOne(ctx, in, caches, dir, n)
				results <- result{n, added, err}
			}()
		}
		if running == 0 {
			break // cancelled
		}
		r := <-results
		running--
		if r.err != nil {
			fail(r.n, r.err)
			continue
		}
		if r.added {
			substituted = append(substituted, r.n.path)
		}
		for _, d := range r.n.dependents {
			dn := nodes[d]
			dn.pending--
			if dn.pending == 0 && dn.failed == nil {
				ready = append(ready, dn)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		failures = append(failures, err)
	}
	return substituted, errors.Join(failures...)
}

func (s *Substituter) emit(e Event) {
	if s.Progress != nil {
		s.Progress(e)
	}
}

// substituteOne fetches one path whose references are valid, trying the
// caches that have it in order.
func (s *Substituter) substituteOne(ctx context.Context, in *installer, caches []*Cache, dir store.Dir, n *subNode) (bool, error) {
	f := n.found
	var errs []string
	for f != nil {
		added, err := s.fetch(ctx, in, f)
		if err == nil {
			s.emit(Event{Kind: Done, Path: n.path, Cache: f.Cache.url, Total: f.NarInfo.NarSize})
			return added, nil
		}
		s.emit(Event{Kind: Failed, Path: n.path, Cache: f.Cache.url, Err: err})
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
		f, _ = s.lookup(ctx, caches, dir, n.path, f.index+1)
	}
	return false, fmt.Errorf("cannot substitute '%s': %s", n.path, strings.Join(errs, "; "))
}

// fetch downloads, checks and installs one path from one cache.
func (s *Substituter) fetch(ctx context.Context, in *installer, f *Substitutable) (added bool, err error) {
	ni, c := f.NarInfo, f.Cache
	s.emit(Event{Kind: Started, Path: ni.StorePath, Cache: c.url, Total: ni.NarSize})
	rc, err := c.OpenNAR(ctx, ni)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	var src io.Reader = rc
	var fileHasher hash.Hash
	fileCount := &countReader{r: rc}
	if !ni.FileHash.IsZero() {
		fileHasher = ni.FileHash.Algorithm().New()
		src = io.TeeReader(fileCount, fileHasher)
	}
	dec, err := decompressor(src, ni.Compression)
	if err != nil {
		return false, fmt.Errorf("%s/%s: %w", c.url, ni.URL, err)
	}
	defer dec.Close()
	nr := &narReader{r: dec, h: nixhash.SHA256.New(), limit: ni.NarSize, report: func(n int64) {
		s.emit(Event{Kind: Receiving, Path: ni.StorePath, Cache: c.url, Bytes: n, Total: ni.NarSize})
	}}
	tree := in.newTree()
	defer func() {
		if err != nil {
			removeTree(tree)
		}
	}()
	where := fmt.Sprintf("the NAR of '%s' from '%s' (%s)", ni.StorePath, c.url, ni.URL)
	if err := store.RestorePath(nr, tree); err != nil {
		if nr.tooLong {
			return false, fmt.Errorf("%s is larger than its NarSize %d", where, ni.NarSize)
		}
		return false, fmt.Errorf("%s is corrupt: %w", where, err)
	}
	// Anything after the archive is an error, found by size.
	if _, err := io.Copy(io.Discard, nr); err != nil && !nr.tooLong {
		return false, fmt.Errorf("%s is corrupt: %w", where, err)
	}
	if nr.tooLong {
		return false, fmt.Errorf("%s is larger than its NarSize %d", where, ni.NarSize)
	}
	if nr.n != ni.NarSize {
		return false, fmt.Errorf("size mismatch in %s: expected %d bytes, got %d", where, ni.NarSize, nr.n)
	}
	if got := nixhash.FromSum(nixhash.SHA256, nr.h.Sum(nil)); got != ni.NarHash {
		return false, fmt.Errorf("hash mismatch in %s: expected %s, got %s", where, ni.NarHash, got)
	}
	if fileHasher != nil {
		if _, err := io.Copy(io.Discard, src); err != nil {
			return false, fmt.Errorf("reading %s: %w", where, err)
		}
		if got := nixhash.FromSum(ni.FileHash.Algorithm(), fileHasher.Sum(nil)); got != ni.FileHash {
			return false, fmt.Errorf("file hash mismatch in %s: expected %s, got %s", where, ni.FileHash, got)
		}
		if ni.FileSize != 0 && fileCount.n != ni.FileSize {
			return false, fmt.Errorf("file size mismatch in %s: expected %d bytes, got %d", where, ni.FileSize, fileCount.n)
		}
	}
	if ni.CA != "" {
		if err := checkContentAddress(tree, ni.StorePath, ni.CA, ni.NarHash); err != nil {
			return false, err
		}
	}
	if err := in.prepare(tree); err != nil {
		return false, err
	}
	added2, err := in.commit([]staged{{tree: tree, info: ni.PathInfo()}})
	if err != nil {
		return false, err
	}
	return len(added2) > 0, nil
}

// narReader hashes and counts the decompressed NAR, refuses more than
// limit bytes, and reports progress about every MiB.
type narReader struct {
	r        io.Reader
	h        hash.Hash
	n, limit int64
	tooLong  bool
	reported int64
	report   func(int64)
}

var errTooLong = errors.New("the NAR is larger than its NarSize")

func (nr *narReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if nr.n >= nr.limit {
		// Anything past the announced size is an error.
		var one [1]byte
		k, err := nr.r.Read(one[:])
		if k > 0 {
			nr.tooLong = true
			return 0, errTooLong
		}
		return 0, err
	}
	if rest := nr.limit - nr.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := nr.r.Read(p)
	nr.h.Write(p[:k])
	nr.n += int64(k)
	if nr.report != nil && nr.n-nr.reported >= 1<<20 {
		nr.reported = nr.n
		nr.report(nr.n)
	}
	return k, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}
