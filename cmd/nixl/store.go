package main

import (
	"fmt"
	"os"

	"github.com/nixl-project/nixl/eval"
)

// openEvalStore returns the store evaluation computes paths in.
func openEvalStore(f *evalFlags) (eval.Store, error) {
	dir := f.storeDir
	if dir == "" {
		dir = os.Getenv("NIXL_STORE_DIR")
	}
	if dir == "" {
		dir = os.Getenv("NIX_STORE_DIR")
	}
	if dir == "" {
		dir = "/nix/store"
	}
	return &computeStore{dir: dir}, nil
}

// computeStore computes store paths without writing anything.
type computeStore struct{ dir string }

func (s *computeStore) Dir() string { return s.dir }
func (s *computeStore) AddPath(name, src string, recursive bool, filter eval.PathFilter) (string, error) {
	return "", fmt.Errorf("adding '%s' to the store is not implemented yet", src)
}
func (s *computeStore) AddText(name, text string, refs []string) (string, error) {
	return "", fmt.Errorf("adding text '%s' to the store is not implemented yet", name)
}
