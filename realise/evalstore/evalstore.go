// Package evalstore gives the evaluator the realiser's stores.
//
// The builtins describe derivations with their own small type
// (builtins.Derivation), so that the language does not depend on the
// realiser; this package converts between it and derivation.Derivation
// and adapts derivation.ComputeStore — which computes store paths and
// writes nothing, as nix-instantiate --eval does — to eval.Store and
// builtins.DerivationStore. cmd/nixl builds its evaluation stores on it,
// and the tests of the builtins and of the standard library use it as
// they are.
package evalstore

import (
	"fmt"
	"sync"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// Compute is a derivation.ComputeStore as the evaluator's store.
type Compute struct {
	CS *derivation.ComputeStore
}

var (
	_ eval.Store               = (*Compute)(nil)
	_ builtins.DerivationStore = (*Compute)(nil)
)

// NewCompute returns a store that computes paths in dir.
func NewCompute(dir store.Dir) *Compute {
	return &Compute{CS: derivation.NewComputeStore(dir)}
}

func (s *Compute) Dir() string { return string(s.CS.Dir()) }

func (s *Compute) AddPath(name, src string, recursive bool, filter eval.PathFilter) (string, error) {
	return s.CS.AddPath(name, src, recursive, filter)
}

func (s *Compute) AddText(name, text string, refs []string) (string, error) {
	return s.CS.AddText(name, text, refs)
}

func (s *Compute) AddDerivation(d *builtins.Derivation) (string, error) {
	sd := sortedPool.Get().(*derivation.Sorted)
	defer func() {
		clear(sd.Outputs[:cap(sd.Outputs)])
		*sd = derivation.Sorted{Outputs: sd.Outputs[:0]}
		sortedPool.Put(sd)
	}()
	fillSorted(sd, d)
	drvPath, err := s.CS.AddSorted(sd)
	if err != nil {
		return "", err
	}
	SetComputed(d, sd)
	return drvPath, nil
}

// sortedPool holds derivation.Sorted values for reuse: the store keeps
// nothing of one it computed the paths of.
var sortedPool = sync.Pool{New: func() any { return new(derivation.Sorted) }}

func (s *Compute) DerivationOutputs(drvPath string) ([]builtins.DerivationOutput, error) {
	outputs, err := s.CS.DerivationOutputs(drvPath)
	if err != nil {
		return nil, err
	}
	out := make([]builtins.DerivationOutput, len(outputs))
	for i, o := range outputs {
		out[i] = builtins.DerivationOutput{Name: o.Name, Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	return out, nil
}

func (s *Compute) IsValidPath(path string) bool { return s.CS.IsValidPath(path) }

func (s *Compute) QueryReferences(path string) ([]string, error) {
	return s.CS.QueryReferences(path)
}

func (s *Compute) FixedOutputPath(name, method string, h nixhash.Hash) (string, error) {
	m, err := ContentAddressMethod(method)
	if err != nil {
		return "", err
	}
	return s.CS.FixedOutputPath(name, m, h)
}

// ContentAddressMethod is the method a builtins method name ("flat",
// "nar", "text") stands for.
func ContentAddressMethod(method string) (store.ContentAddressMethod, error) {
	switch method {
	case "flat":
		return store.FlatMethod, nil
	case "nar":
		return store.RecursiveMethod, nil
	case "text":
		return store.TextMethod, nil
	}
	return 0, fmt.Errorf("unknown content address method '%s'", method)
}

// ToSorted is d as the realiser's derivation; they share their lists,
// but for the outputs.
func ToSorted(d *builtins.Derivation) *derivation.Sorted {
	sd := new(derivation.Sorted)
	fillSorted(sd, d)
	return sd
}

// fillSorted makes sd d, reusing the array of sd.Outputs.
func fillSorted(sd *derivation.Sorted, d *builtins.Derivation) {
	*sd = derivation.Sorted{
		Name:      d.Name,
		Outputs:   sd.Outputs[:0],
		InputDrvs: d.InputDrvs,
		InputSrcs: d.InputSrcs,
		Platform:  d.Platform,
		Builder:   d.Builder,
		Args:      d.Args,
		Env:       d.Env,
	}
	for _, o := range d.Outputs {
		sd.Outputs = append(sd.Outputs, derivation.NamedOutput{Name: o.Name, Output: derivation.Output{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}})
	}
}

// SetComputed copies into d what adding sd computed: the output paths and
// the environment that names them.
func SetComputed(d *builtins.Derivation, sd *derivation.Sorted) {
	for i, o := range sd.Outputs {
		d.Outputs[i] = builtins.DerivationOutput{Name: o.Name, Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	d.Env = sd.Env
}
