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
	rd := ToDerivation(d)
	drvPath, err := s.CS.AddDerivation(rd)
	if err != nil {
		return "", err
	}
	SetComputed(d, rd)
	return drvPath, nil
}

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

// ToDerivation is d as the realiser's derivation; they share their maps
// and slices.
func ToDerivation(d *builtins.Derivation) *derivation.Derivation {
	rd := &derivation.Derivation{
		Name:      d.Name,
		Outputs:   make(map[string]derivation.Output, len(d.Outputs)),
		InputDrvs: d.InputDrvs,
		InputSrcs: d.InputSrcs,
		Platform:  d.Platform,
		Builder:   d.Builder,
		Args:      d.Args,
		Env:       d.Env,
	}
	for _, o := range d.Outputs {
		rd.Outputs[o.Name] = derivation.Output{Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	return rd
}

// SetComputed copies into d what adding rd computed: the output paths and
// the environment that names them.
func SetComputed(d *builtins.Derivation, rd *derivation.Derivation) {
	for i := range d.Outputs {
		o := rd.Outputs[d.Outputs[i].Name]
		d.Outputs[i] = builtins.DerivationOutput{Name: d.Outputs[i].Name, Path: o.Path, HashAlgo: o.HashAlgo, Hash: o.Hash}
	}
	d.Env = rd.Env
}
