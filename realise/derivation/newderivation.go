package derivation

import (
	"github.com/nixl-project/nixl/nixhash"

	"fmt"

	"github.com/nixl-project/nixl/realise/store"
)

// ParseOutputHashMode parses the outputHashMode attribute.
func ParseOutputHashMode(mode string) (store.ContentAddressMethod, error) {
	switch mode {
	case "flat":
		return store.FlatMethod, nil
	case "recursive":
		return store.RecursiveMethod, nil
	}
	return 0, fmt.Errorf("invalid value '%s' for 'outputHashMode' attribute", mode)
}

// SetFixedOutput makes d a fixed-output derivation with the single output
// "out", from the outputHash and outputHashAlgo attributes (pass "" for an
// absent outputHashAlgo) and the method (FlatMethod unless outputHashMode
// says otherwise).
//
// As in Nix 2.8, an outputHashAlgo that is not a known algorithm name is
// treated as absent, so the hash must then name its algorithm (SRI or
// "<algo>:"); and an empty outputHash stands for the all-zero hash of
// outputHashAlgo, about which the evaluator should warn.
func (d *Derivation) SetFixedOutput(dir store.Dir, method store.ContentAddressMethod, outputHash, outputHashAlgo string) error {
	algo, err := nixhash.ParseAlgorithm(outputHashAlgo)
	if err != nil {
		algo = 0
	}
	var h nixhash.Hash
	if outputHash == "" {
		if algo == 0 {
			return fmt.Errorf("empty hash requires explicit hash type")
		}
		h, _ = nixhash.New(algo, make([]byte, algo.Size()))
	} else if h, err = nixhash.Parse(outputHash, algo); err != nil {
		return err
	}
	o := Output{HashAlgo: store.FormatMethodAlgorithm(method, h.Algorithm()), Hash: h.Base16()}
	if o.Path, err = fixedOutputPath(dir, d.Name, "out", o); err != nil {
		return err
	}
	d.Outputs = map[string]Output{"out": o}
	if d.Env == nil {
		d.Env = map[string]string{}
	}
	d.Env["out"] = o.Path
	return nil
}

// SetInputAddressedOutputs gives d the named outputs with paths computed
// from its masked modulo hash, and sets the environment variable of each
// output to its path. If d depends on a floating content-addressed
// derivation the outputs are left deferred, with empty paths and variables.
func (h *Hasher) SetInputAddressedOutputs(d *Derivation, outputNames []string) error {
	if len(outputNames) == 0 {
		return fmt.Errorf("derivation '%s' has no outputs", d.Name)
	}
	if d.Outputs == nil {
		d.Outputs = make(map[string]Output, len(outputNames))
	} else {
		clear(d.Outputs)
	}
	if d.Env == nil {
		d.Env = map[string]string{}
	}
	for _, name := range outputNames {
		if _, dup := d.Outputs[name]; dup {
			return fmt.Errorf("duplicate derivation output '%s'", name)
		}
		if name == "" {
			return fmt.Errorf("derivation '%s' has an output with an empty name", d.Name)
		}
		d.Outputs[name] = Output{}
		d.Env[name] = ""
	}
	s := d.Sorted()
	var few [4]inputGroup
	if _, err := h.setInputAddressed(s, few[:0]); err != nil {
		return err
	}
	for _, o := range s.Outputs {
		d.Outputs[o.Name] = o.Output
		d.Env[o.Name] = o.Path
	}
	return nil
}

// setInputAddressed gives the outputs of d, all deferred and each with an
// environment variable, their paths, unless d depends on a floating
// content-addressed derivation. It returns the hashing it did (its input
// groups appended to buf), which the unmasked modulo hash of d can reuse.
func (h *Hasher) setInputAddressed(d *Sorted, buf []inputGroup) (hashing, error) {
	hs, err := h.prepare(d, nil, buf)
	if err != nil {
		return hashing{}, err
	}
	m := hs.modulo(d, TypeDeferred, true)
	if m.Deferred {
		return hs, nil
	}
	for i := range d.Outputs {
		o := &d.Outputs[i]
		path, err := h.dir.OutputPath(o.Name, m.All(), d.Name)
		if err != nil {
			return hashing{}, err
		}
		o.Path = path
		d.SetEnv(o.Name, path)
	}
	return hs, nil
}

// ComputePath returns the path of d's .drv file in dir: a text path named
// "<name>.drv" whose references are the input sources and derivations.
func (d *Derivation) ComputePath(dir store.Dir) (string, error) {
	s := d.Sorted()
	buf := atermBuffers.Get().(*[]byte)
	*buf = s.appendATerm((*buf)[:0], false, nil)
	p, err := s.pathOfText(dir, *buf)
	atermBuffers.Put(buf)
	return p, err
}

// pathOfText is ComputePath given the .drv text.
func (s *Sorted) pathOfText(dir store.Dir, text []byte) (string, error) {
	var refs [8]string
	return dir.TextPath(s.Name+store.DrvExtension, nixhash.Sum(nixhash.SHA256, text), s.references(refs[:0]))
}
