package main

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/realise/fetch"
	"github.com/nixl-project/nixl/realise/store/local"
)

// evalFetch gives the evaluation store the fetch builtins (fetchurl,
// fetchTarball, fetchTree): a fetch.Fetcher adding to the local store
// whose directory the evaluation computes paths for, opened on the first
// fetch, with its download cache in <state dir>/fetch-cache and Nix's
// tarball-ttl (from $NIX_CONFIG or $NIXL_CONFIG, an hour by default).
// Its zero value is ready; computeStore holds one.
type evalFetch struct {
	once    sync.Once
	fetcher *fetch.Fetcher
	err     error
}

var _ builtins.Fetcher = (*computeStore)(nil)

func (s *computeStore) FetchURL(url, name string, unpack bool, expectedHash string) (string, error) {
	f, err := s.fetch.get(s.Dir())
	if err != nil {
		return "", err
	}
	return f.FetchURL(url, name, unpack, expectedHash)
}

func (s *computeStore) FetchTree(attrs map[string]any) (string, map[string]any, error) {
	f, err := s.fetch.get(s.Dir())
	if err != nil {
		return "", nil, err
	}
	return f.FetchTree(attrs)
}

// setStore makes the fetcher add to ls, an open local store (for a
// store that has one already, such as the realiser's writeStore, so that
// fetches go where its state directory says). It must be called before
// the first fetch.
func (e *evalFetch) setStore(ls *local.Store) {
	e.once.Do(func() { e.fetcher = newEvalFetcher(ls) })
}

// newEvalFetcher makes the fetcher for an open local store.
func newEvalFetcher(st *local.Store) *fetch.Fetcher {
	ttl := fetch.DefaultTTL
	if s := loadConfig()["tarball-ttl"]; s != "" {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			ttl = time.Duration(n) * time.Second
		}
	}
	return fetch.New(fetch.Options{
		Store:    fetchStore{st},
		CacheDir: filepath.Join(st.StateDir(), "fetch-cache"),
		TTL:      ttl,
	})
}

// get opens the store and makes the fetcher, once.
func (e *evalFetch) get(storeDir string) (*fetch.Fetcher, error) {
	e.once.Do(func() {
		stateDir := os.Getenv("NIXL_STATE_DIR")
		if stateDir == "" {
			defStore, defState, err := local.DefaultDirs()
			if err != nil {
				e.err = err
				return
			}
			stateDir = defState
			if storeDir == "" {
				storeDir = defStore
			}
		}
		if abs, err := filepath.Abs(stateDir); err == nil {
			stateDir = abs
		}
		st, err := local.Open(local.Options{StoreDir: storeDir, StateDir: stateDir})
		if err != nil {
			e.err = err
			return
		}
		e.fetcher = newEvalFetcher(st)
	})
	return e.fetcher, e.err
}

// fetchStore adapts *local.Store to fetch.Store.
type fetchStore struct{ *local.Store }

var _ fetch.Store = fetchStore{}
