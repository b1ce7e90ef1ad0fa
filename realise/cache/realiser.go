package cache

import (
	"context"
	"errors"
	"sync"

	"github.com/nixl-project/nixl/realise/store/local"
)

// StoreSubstituter is a Substituter bound to the local store it fills:
// what the realiser takes as its substituter (it has the methods of
// realise/build's Substituter interface, without this package depending
// on the realiser).
type StoreSubstituter struct {
	sub *Substituter
	st  *local.Store

	mu       sync.Mutex
	reported map[string]bool // problems already returned
}

// ForStore binds s to st.
func (s *Substituter) ForStore(st *local.Store) *StoreSubstituter {
	return &StoreSubstituter{sub: s, st: st}
}

// Substitutable returns which of paths a cache has with a trusted
// narinfo. problems says why other paths cannot be used although a cache
// answered for them (a narinfo without a trusted signature, an error
// reading it) and which caches cannot be used at all, each problem once
// in the life of b; paths no cache has are simply absent.
func (b *StoreSubstituter) Substitutable(ctx context.Context, paths []string) (map[string]bool, []error, error) {
	found, problems, err := b.substitutable(ctx, paths)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reported == nil {
		b.reported = map[string]bool{}
	}
	var fresh []error
	for _, p := range problems {
		if !b.reported[p.Error()] {
			b.reported[p.Error()] = true
			fresh = append(fresh, p)
		}
	}
	return found, fresh, err
}

func (b *StoreSubstituter) substitutable(ctx context.Context, paths []string) (map[string]bool, []error, error) {
	found := map[string]bool{}
	if len(paths) == 0 || len(b.sub.Caches) == 0 {
		return found, nil, ctx.Err()
	}
	dir := b.st.StoreDir()
	caches, cacheProblems := b.sub.sortedCaches(ctx, dir)
	var problems []error
	for _, p := range cacheProblems {
		problems = append(problems, errors.New(p))
	}
	if len(caches) == 0 {
		return found, problems, ctx.Err()
	}
	var mu sync.Mutex
	err := parallel(ctx, b.sub.jobs(), paths, func(p string) error {
		f, reasons := b.sub.lookup(ctx, caches, dir, p, 0)
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			found[p] = true
			return nil
		}
		for _, r := range reasons {
			problems = append(problems, errors.New(r))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return found, problems, nil
}

// Substitute substitutes paths into the store (see Substituter.Substitute).
func (b *StoreSubstituter) Substitute(ctx context.Context, paths []string) error {
	_, err := b.sub.Substitute(ctx, b.st, paths)
	return err
}
