package derivation

import (
	"fmt"
	"slices"
	"strings"
)

// Sorted is a derivation with every part in the order its .drv text has:
// outputs by name, input derivations by path (each with its output names
// sorted and unique), input sources sorted and unique, environment
// variables by key. Everything that writes or hashes a derivation works on
// this form; evaluation builds its derivations in it directly (their
// attributes come in that order already), because filling maps only to
// sort their keys again cost more than the three hashes of the text.
type Sorted struct {
	Name      string
	Outputs   []NamedOutput
	InputDrvs []InputDrv
	InputSrcs []string
	Platform  string
	Builder   string
	Args      []string
	Env       []EnvVar
}

// InputDrv is an input derivation and the outputs used from it. It and
// EnvVar are unnamed struct types so that lists of them built elsewhere
// (the evaluator's, in package builtins) are lists of these, taken
// without copying.
type InputDrv = struct {
	Path    string
	Outputs []string
}

// EnvVar is one variable of a builder's environment.
type EnvVar = struct{ Key, Value string }

// Sorted returns d in sorted form. It shares d's strings, and its input
// lists when they are sorted already.
func (d *Derivation) Sorted() *Sorted {
	s := &Sorted{
		Name:      d.Name,
		Outputs:   make([]NamedOutput, 0, len(d.Outputs)),
		InputDrvs: make([]InputDrv, 0, len(d.InputDrvs)),
		InputSrcs: sortedUnique(d.InputSrcs),
		Platform:  d.Platform,
		Builder:   d.Builder,
		Args:      d.Args,
		Env:       make([]EnvVar, 0, len(d.Env)),
	}
	for name, o := range d.Outputs {
		s.Outputs = append(s.Outputs, NamedOutput{Name: name, Output: o})
	}
	slices.SortFunc(s.Outputs, func(a, b NamedOutput) int { return strings.Compare(a.Name, b.Name) })
	for path, outputs := range d.InputDrvs {
		s.InputDrvs = append(s.InputDrvs, InputDrv{Path: path, Outputs: sortedUnique(outputs)})
	}
	slices.SortFunc(s.InputDrvs, func(a, b InputDrv) int { return strings.Compare(a.Path, b.Path) })
	for key, value := range d.Env {
		s.Env = append(s.Env, EnvVar{key, value})
	}
	slices.SortFunc(s.Env, func(a, b EnvVar) int { return strings.Compare(a.Key, b.Key) })
	return s
}

// Derivation returns s with maps, sharing its strings and lists.
func (s *Sorted) Derivation() *Derivation {
	d := &Derivation{
		Name:      s.Name,
		Outputs:   make(map[string]Output, len(s.Outputs)),
		InputDrvs: make(map[string][]string, len(s.InputDrvs)),
		InputSrcs: s.InputSrcs,
		Platform:  s.Platform,
		Builder:   s.Builder,
		Args:      s.Args,
		Env:       make(map[string]string, len(s.Env)),
	}
	for _, o := range s.Outputs {
		d.Outputs[o.Name] = o.Output
	}
	for _, in := range s.InputDrvs {
		d.InputDrvs[in.Path] = in.Outputs
	}
	for _, v := range s.Env {
		d.Env[v.Key] = v.Value
	}
	return d
}

// SetEnv sets the variable key, keeping Env sorted.
func (s *Sorted) SetEnv(key, value string) {
	i, found := slices.BinarySearchFunc(s.Env, key, func(v EnvVar, key string) int { return strings.Compare(v.Key, key) })
	if found {
		s.Env[i].Value = value
		return
	}
	s.Env = slices.Insert(s.Env, i, EnvVar{key, value})
}

// isOutput reports whether name names an output.
func (s *Sorted) isOutput(name string) bool {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return true
		}
	}
	return false
}

// Type classifies s as [Derivation.Type] does.
func (s *Sorted) Type() (Type, error) {
	if len(s.Outputs) == 0 {
		return 0, errNoOutputs(s.Name)
	}
	kind := s.Outputs[0].Kind()
	for _, o := range s.Outputs[1:] {
		if o.Kind() != kind {
			return 0, fmt.Errorf("derivation '%s' mixes output kinds", s.Name)
		}
	}
	switch kind {
	case InputAddressedOutput:
		return TypeInputAddressed, nil
	case FloatingOutput:
		return TypeFloating, nil
	case DeferredOutput:
		return TypeDeferred, nil
	}
	if len(s.Outputs) != 1 || s.Outputs[0].Name != "out" {
		return 0, fmt.Errorf("fixed-output derivation '%s' must have exactly one output, named \"out\"", s.Name)
	}
	return TypeFixedOutput, nil
}

// references are the store paths the .drv text refers to: the input
// sources and derivations, merged in order, appended to refs.
func (s *Sorted) references(refs []string) []string {
	srcs, drvs := s.InputSrcs, s.InputDrvs
	for len(srcs) > 0 || len(drvs) > 0 {
		var next string
		switch {
		case len(drvs) == 0 || len(srcs) > 0 && srcs[0] < drvs[0].Path:
			next, srcs = srcs[0], srcs[1:]
		case len(srcs) == 0 || drvs[0].Path < srcs[0]:
			next, drvs = drvs[0].Path, drvs[1:]
		default: // an input source that is also an input derivation
			next, srcs, drvs = srcs[0], srcs[1:], drvs[1:]
		}
		refs = append(refs, next)
	}
	return refs
}
