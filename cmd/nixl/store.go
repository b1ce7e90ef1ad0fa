package main

import (
	"fmt"
	"os"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
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

// computeStore adapts the realiser's ComputeStore, which computes store
// paths without writing anything (as nix-instantiate --eval does), to the
// evaluator's eval.Store and the builtins' DerivationStore.
type computeStore struct {
	cs    *derivation.ComputeStore
	fetch evalFetch // fetch.go: the fetch builtins' downloads
}

var (
	_ eval.Store               = (*computeStore)(nil)
	_ builtins.DerivationStore = (*computeStore)(nil)
)

func newComputeStore(dir store.Dir) *computeStore {
	return &computeStore{cs: derivation.NewComputeStore(dir)}
}

func (s *computeStore) Dir() string { return string(s.cs.Dir()) }

func (s *computeStore) AddPath(name, src string, recursive bool, filter eval.PathFilter) (string, error) {
	var f func(string) (bool, error)
	if filter != nil {
		f = func(path string) (bool, error) {
			kind := "unknown"
			if fi, err := os.Lstat(path); err == nil {
				switch m := fi.Mode(); {
				case m.IsRegular():
					kind = "regular"
				case m.IsDir():
					kind = "directory"
				case m&os.ModeSymlink != 0:
					kind = "symlink"
				}
			}
			return filter(path, kind)
		}
	}
	return s.cs.AddPath(name, src, recursive, f)
}

func (s *computeStore) AddText(name, text string, refs []string) (string, error) {
	return s.cs.AddText(name, text, refs)
}

func (s *computeStore) AddDerivation(d *builtins.Derivation) (string, error) {
	rd := &derivation.Derivation{
		Name:      d.Name,
		Outputs:   map[string]derivation.Output{},
		InputDrvs: d.InputDrvs,
		InputSrcs: d.InputSrcs,
		Platform:  d.Platform,
		Builder:   d.Builder,
		Args:      d.Args,
		Env:       d.Env,
	}
	for name, o := range d.Outputs {
		rd.Outputs[name] = derivation.Output{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	drvPath, err := s.cs.AddDerivation(rd)
	if err != nil {
		return "", err
	}
	for name, o := range rd.Outputs {
		d.Outputs[name] = builtins.DerivationOutput{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	d.Env = rd.Env
	return drvPath, nil
}

func (s *computeStore) ReadDerivation(drvPath string) (*builtins.Derivation, error) {
	rd, err := s.cs.ReadDerivation(drvPath)
	if err != nil {
		return nil, err
	}
	d := &builtins.Derivation{
		Name:      rd.Name,
		Outputs:   map[string]builtins.DerivationOutput{},
		InputDrvs: rd.InputDrvs,
		InputSrcs: rd.InputSrcs,
		Platform:  rd.Platform,
		Builder:   rd.Builder,
		Args:      rd.Args,
		Env:       rd.Env,
	}
	for name, o := range rd.Outputs {
		d.Outputs[name] = builtins.DerivationOutput{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	return d, nil
}

func (s *computeStore) IsValidPath(path string) bool { return s.cs.IsValidPath(path) }

func (s *computeStore) QueryReferences(path string) ([]string, error) {
	return s.cs.QueryReferences(path)
}

func (s *computeStore) FixedOutputPath(name, method string, h nixhash.Hash) (string, error) {
	var m store.ContentAddressMethod
	switch method {
	case "flat":
		m = store.FlatMethod
	case "nar":
		m = store.RecursiveMethod
	case "text":
		m = store.TextMethod
	default:
		return "", fmt.Errorf("unknown content address method '%s'", method)
	}
	return s.cs.FixedOutputPath(name, m, h)
}
