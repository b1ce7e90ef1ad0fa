package local

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/realise/store"
)

// GCResult says what garbage collection deleted, or would delete in a dry
// run.
type GCResult struct {
	// Paths are the store paths deleted, in the order of deletion: valid
	// paths before the paths they refer to, then unregistered leftovers.
	Paths []string
	// BytesFreed is the disk space the deleted files used.
	BytesFreed uint64
}

// GC deletes every store path that is not reachable from a root, as
// nix-store --gc does, and leftovers of interrupted additions. With dryRun
// it only reports what it would delete. A maxFreed above 0 stops it once
// that many bytes are freed (a path is never half deleted).
//
// Reachability is the closure over references of the roots (see
// FindRoots) and of the temporary roots of live processes, plus the
// derivations live paths were built from (unless DiscardDerivations) and,
// with KeepOutputs, the outputs of live derivations. GC holds the GC lock
// exclusively, so no path is being added meanwhile, and no process can
// record a new temporary root until it is done.
func (s *Store) GC(dryRun bool, maxFreed uint64) (*GCResult, error) {
	if _, err := s.gc.lock(true); err != nil {
		return nil, err
	}
	defer s.gc.unlock()
	temp, live, err := s.liveSet()
	if err != nil {
		return nil, err
	}
	all, err := s.QueryAllValidPaths()
	if err != nil {
		return nil, err
	}
	var dead []string
	for _, p := range all {
		if !live[p] {
			dead = append(dead, p)
		}
	}
	res := &GCResult{}
	full := func() bool { return maxFreed > 0 && res.BytesFreed >= maxFreed }
	batches, err := s.deletionOrder(dead)
	if err != nil {
		return nil, err
	}
	for _, batch := range batches {
		if full() {
			return res, nil
		}
		freed, err := s.deleteValid(batch, dryRun)
		res.BytesFreed += freed
		if err != nil {
			return res, err
		}
		res.Paths = append(res.Paths, batch...)
	}
	// Entries of the store directory that are not valid: leftovers of
	// interrupted additions and deletions. Those locked or used as
	// temporary roots are being created by someone.
	entries, err := os.ReadDir(string(s.dir))
	if err != nil {
		return res, err
	}
	for _, e := range entries {
		if full() {
			return res, nil
		}
		sp, err := store.ParseStorePathBase(e.Name())
		if err != nil {
			continue // ours (.nixl-tmp, .nixl-store) or not a store path
		}
		p := s.dir.Path(sp)
		if temp[p] != nil {
			continue
		}
		freed, deleted, err := s.deleteUnregistered(sp, dryRun)
		if err != nil {
			return res, err
		}
		if deleted {
			res.Paths = append(res.Paths, p)
			res.BytesFreed += freed
		}
	}
	if !dryRun {
		err = s.cleanTmpDir()
	}
	return res, err
}

// liveSet returns the temporary roots and the set of live valid paths.
// The caller holds the GC lock exclusively.
func (s *Store) liveSet() (tempRootSet, map[string]bool, error) {
	temp, err := s.readTempRoots()
	if err != nil {
		return nil, nil, err
	}
	roots, err := s.findRootsLocked(temp)
	if err != nil {
		return nil, nil, err
	}
	live := map[string]bool{}
	var todo []string
	for _, r := range roots {
		todo = append(todo, r.Target)
	}
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if live[p] {
			continue
		}
		info, err := queryInfo(s.db, p)
		if err != nil {
			return nil, nil, err
		}
		if info == nil {
			continue
		}
		live[p] = true
		todo = append(todo, info.References...)
		if s.keepDerivations && info.Deriver != "" {
			todo = append(todo, info.Deriver)
		}
		if s.keepOutputs && strings.HasSuffix(p, store.DrvExtension) {
			outs, err := s.QueryDerivationOutputs(p)
			if err != nil {
				return nil, nil, err
			}
			for _, o := range outs {
				todo = append(todo, o)
			}
		}
	}
	return temp, live, nil
}

// deletionOrder sorts dead paths so that every path comes after the paths
// referring to it, as the database requires. Paths on a reference cycle
// (outputs of one derivation may refer to each other) form one batch.
func (s *Store) deletionOrder(dead []string) ([][]string, error) {
	inDead := map[string]bool{}
	for _, p := range dead {
		inDead[p] = true
	}
	refs := map[string][]string{}
	pending := map[string]int{} // referrers not deleted yet
	for _, p := range dead {
		r, err := s.QueryReferences(p)
		if err != nil {
			return nil, err
		}
		refs[p] = r
		for _, ref := range r {
			if ref != p && inDead[ref] {
				pending[ref]++
			}
		}
	}
	var batches [][]string
	var queue []string
	for _, p := range dead {
		if pending[p] == 0 {
			queue = append(queue, p)
		}
	}
	done := map[string]bool{}
	for len(done) < len(dead) {
		if len(queue) == 0 {
			// Only cycles remain: delete the rest together.
			var rest []string
			for _, p := range dead {
				if !done[p] {
					rest = append(rest, p)
					done[p] = true
				}
			}
			batches = append(batches, rest)
			break
		}
		slices.Sort(queue)
		p := queue[0]
		queue = queue[1:]
		done[p] = true
		batches = append(batches, []string{p})
		for _, ref := range refs[p] {
			if ref != p && inDead[ref] {
				pending[ref]--
				if pending[ref] == 0 {
					queue = append(queue, ref)
				}
			}
		}
	}
	return batches, nil
}

// deleteValid invalidates paths (one path, or a reference cycle) in one
// transaction and then deletes their files. The path locks are held
// meanwhile, so that if the process dies half way the next Open finds the
// lock files and removes the rest.
func (s *Store) deleteValid(paths []string, dryRun bool) (uint64, error) {
	if dryRun {
		var total uint64
		for _, p := range paths {
			total += treeUsage(p)
		}
		return total, nil
	}
	unlock, err := s.LockPaths(paths)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if err := s.invalidate(paths); err != nil {
		return 0, err
	}
	var total uint64
	for _, p := range paths {
		freed, err := removeTree(p)
		total += freed
		if err != nil {
			return total, fmt.Errorf("deleting '%s': %w", p, err)
		}
	}
	return total, nil
}

// invalidate removes paths from the database. Their references are
// removed first, so paths referring to each other can go together; a path
// that something else still refers to is refused by the foreign key.
func (s *Store) invalidate(paths []string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, p := range paths {
		if _, err := tx.Exec("delete from Refs where referrer = (select id from ValidPaths where path = ?)", p); err != nil {
			return err
		}
	}
	for _, p := range paths {
		if _, err := tx.Exec("delete from ValidPaths where path = ?", p); err != nil {
			return fmt.Errorf("invalidating '%s': %w", p, err)
		}
	}
	return tx.Commit()
}

// deleteUnregistered deletes a store directory entry that is not a valid
// path, unless someone holds its lock (it is being created).
func (s *Store) deleteUnregistered(sp store.StorePath, dryRun bool) (uint64, bool, error) {
	p := s.dir.Path(sp)
	l, err := lockPath(s.lockFileName(sp.String()), false)
	if err != nil || l == nil {
		return 0, false, err
	}
	defer l.unlock()
	if valid, err := s.IsValidPath(p); err != nil || valid {
		return 0, false, err
	}
	if dryRun {
		return treeUsage(p), true, nil
	}
	freed, err := removeTree(p)
	return freed, err == nil, err
}

// treeUsage is the disk space removeTree would free.
func treeUsage(path string) uint64 {
	var total uint64
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += diskUsage(info)
		}
		return nil
	})
	return total
}

// StillAliveError is returned by DeletePaths for a path that is reachable
// from a root or referred to by a path that is not deleted with it.
type StillAliveError struct{ Path string }

func (e *StillAliveError) Error() string {
	return fmt.Sprintf("cannot delete path '%s' since it is still alive (see 'nixl store roots' and 'nixl store referrers')", e.Path)
}

// DeletePaths deletes the given store paths, as nix-store --delete does,
// refusing (with a *StillAliveError, deleting nothing) if one of them is
// alive: reachable from a root, or referred to by a valid path not in
// paths. Invalid paths still present in the store directory are deleted
// too; others yield an *InvalidPathError.
func (s *Store) DeletePaths(paths []string) (*GCResult, error) {
	if _, err := s.gc.lock(true); err != nil {
		return nil, err
	}
	defer s.gc.unlock()
	_, live, err := s.liveSet()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	var valid, invalid []store.StorePath
	for _, p := range paths {
		sp, err := s.parseStorePath(p)
		if err != nil {
			return nil, err
		}
		ok, err := s.IsValidPath(p)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			valid = append(valid, sp)
			set[p] = true
		case exists(p):
			invalid = append(invalid, sp)
		default:
			return nil, &InvalidPathError{Path: p}
		}
	}
	var order []string
	for _, sp := range valid {
		p := s.dir.Path(sp)
		if live[p] {
			return nil, &StillAliveError{Path: p}
		}
		referrers, err := s.QueryReferrers(p)
		if err != nil {
			return nil, err
		}
		for _, r := range referrers {
			if !set[r] {
				return nil, &StillAliveError{Path: p}
			}
		}
		order = append(order, p)
	}
	slices.Sort(order)
	order = slices.Compact(order)
	batches, err := s.deletionOrder(order)
	if err != nil {
		return nil, err
	}
	res := &GCResult{}
	for _, batch := range batches {
		freed, err := s.deleteValid(batch, false)
		res.BytesFreed += freed
		if err != nil {
			return res, err
		}
		res.Paths = append(res.Paths, batch...)
	}
	for _, sp := range invalid {
		freed, deleted, err := s.deleteUnregistered(sp, false)
		if err != nil {
			return res, err
		}
		if !deleted {
			return res, fmt.Errorf("cannot delete '%s': it is being created", s.dir.Path(sp))
		}
		res.Paths = append(res.Paths, s.dir.Path(sp))
		res.BytesFreed += freed
	}
	return res, nil
}
