package main

import (
	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/realise/evalstore"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// openEvalStore returns the store evaluation computes paths in.
func openEvalStore(f *evalFlags) (eval.Store, error) {
	// nixl instantiate and nixl build write into the local store (build.go).
	if s, ok := writableStoreFor(f); ok {
		return s, nil
	}
	// Paths are computed for the store that nixl build would write to,
	// so that eval and build agree on them.
	dir := f.storeDir
	if dir == "" {
		var err error
		if dir, _, err = local.DefaultDirs(); err != nil {
			dir = "/nix/store" // no home: nothing is written, any store will do
		}
	}
	if err := store.Dir(dir).Validate(); err != nil {
		return nil, err
	}
	return newComputeStore(store.Dir(dir)), nil
}

// computeStore is the evaluation store of nixl eval: it computes store
// paths without writing anything (evalstore.Compute), and downloads for
// the fetch builtins.
type computeStore struct {
	*evalstore.Compute
	fetch evalFetch // fetch.go: the fetch builtins' downloads
}

var (
	_ eval.Store               = (*computeStore)(nil)
	_ builtins.DerivationStore = (*computeStore)(nil)
)

func newComputeStore(dir store.Dir) *computeStore {
	return &computeStore{Compute: evalstore.NewCompute(dir)}
}
