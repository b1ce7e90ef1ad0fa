package derivation

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// Loader returns the derivation stored at an absolute .drv path.
type Loader func(drvPath string) (*Derivation, error)

// FileLoader loads derivations from .drv files on the local file system.
func FileLoader(dir store.Dir) Loader {
	return func(drvPath string) (*Derivation, error) { return ReadFile(dir, drvPath) }
}

// ModuloHash is the result of hashing a derivation modulo fixed-output
// derivations, one hash per output.
//
// For a fixed-output derivation each output's hash covers only its content
// address and path: "fixed:out:<method><algo>:<base16 hash>:<path>". Two
// fixed-output derivations producing the same output (say, the same tarball
// fetched from different mirrors) therefore look identical to dependants,
// whose output paths do not change.
//
// For any other derivation all outputs share one hash: the SHA-256 of its
// ATerm with every input derivation path replaced by the base16 modulo hash
// of the outputs used from it.
type ModuloHash struct {
	// Outputs holds the hash of each output of a fixed-output derivation.
	Outputs map[string]nixhash.Hash
	// all is the SHA-256 of every output of any other derivation (All).
	// The memo holds one ModuloHash per derivation evaluated, so it is
	// kept small: 32 bytes rather than a nixhash.Hash.
	all [sha256.Size]byte
	// outputs are the derivation's outputs, sorted by name: their names,
	// and for a derivation a ComputeStore computed (computed is set) the
	// paths that DerivationOutputs reports.
	outputs  []NamedOutput
	computed bool
	// Deferred is set when the derivation depends, directly or not, on a
	// floating content-addressed derivation, so that its output paths are
	// only known after building.
	Deferred bool
}

// All is the hash of every output of a derivation that is not
// fixed-output.
func (m ModuloHash) All() nixhash.Hash { return nixhash.FromSum(nixhash.SHA256, m.all[:]) }

// Output returns the modulo hash of the named output.
func (m ModuloHash) Output(name string) (nixhash.Hash, bool) {
	if m.Outputs != nil {
		h, ok := m.Outputs[name]
		return h, ok
	}
	_, ok := slices.BinarySearchFunc(m.outputs, name, func(o NamedOutput, name string) int { return strings.Compare(o.Name, name) })
	return m.All(), ok
}

// Hasher computes modulo hashes, memoising them by .drv path. It is safe
// for concurrent use.
type Hasher struct {
	dir  store.Dir
	load Loader
	mu   sync.Mutex
	// memo holds pointers: the map's slots stay small, and growing it
	// copies less (an evaluation adds an entry per derivation).
	memo map[string]*ModuloHash
}

// NewHasher returns a Hasher that loads input derivations with load.
func NewHasher(dir store.Dir, load Loader) *Hasher {
	return &Hasher{dir: dir, load: load, memo: map[string]*ModuloHash{}}
}

// HashModulo hashes d modulo fixed-output derivations. With maskOutputs the
// output paths and the environment variables named after outputs are
// emptied first; that form names the outputs of a new input-addressed
// derivation, whose paths cannot be part of their own hash. Input
// derivations are always hashed unmasked.
func (h *Hasher) HashModulo(d *Derivation, maskOutputs bool) (ModuloHash, error) {
	return h.hashModulo(d, maskOutputs, nil)
}

// remember memoises m as the unmasked modulo hash of the derivation at
// drvPath, just added, so that derivations depending on it never load it
// again (Nix's drvHashes).
func (h *Hasher) remember(drvPath string, m ModuloHash) {
	p := &m
	h.mu.Lock()
	h.memo[drvPath] = p
	h.mu.Unlock()
}

// computedOutputs returns the outputs remembered with the hash of
// drvPath, if any.
func (h *Hasher) computedOutputs(drvPath string) ([]NamedOutput, bool) {
	h.mu.Lock()
	m := h.memo[drvPath]
	h.mu.Unlock()
	if m == nil || !m.computed {
		return nil, false
	}
	return m.outputs, true
}

// HashModuloPath returns the unmasked modulo hash of the derivation at
// drvPath, loading and hashing it (and its inputs) only once.
func (h *Hasher) HashModuloPath(drvPath string) (ModuloHash, error) {
	return h.hashModuloPath(drvPath, nil)
}

func (h *Hasher) hashModuloPath(drvPath string, visiting map[string]bool) (ModuloHash, error) {
	h.mu.Lock()
	memoised := h.memo[drvPath]
	h.mu.Unlock()
	if memoised != nil {
		return *memoised, nil
	}
	if visiting[drvPath] {
		return ModuloHash{}, fmt.Errorf("derivation '%s' depends on itself", drvPath)
	}
	if visiting == nil {
		visiting = map[string]bool{}
	}
	visiting[drvPath] = true
	defer delete(visiting, drvPath)
	d, err := h.load(drvPath)
	if err != nil {
		return ModuloHash{}, fmt.Errorf("loading input derivation: %w", err)
	}
	m, err := h.hashModulo(d, false, visiting)
	if err != nil {
		return ModuloHash{}, fmt.Errorf("hashing '%s': %w", drvPath, err)
	}
	h.remember(drvPath, m)
	return m, nil
}

func (h *Hasher) hashModulo(d *Derivation, maskOutputs bool, visiting map[string]bool) (ModuloHash, error) {
	return h.hashModuloSorted(d.Sorted(), maskOutputs, visiting)
}

func (h *Hasher) hashModuloSorted(d *Sorted, maskOutputs bool, visiting map[string]bool) (ModuloHash, error) {
	typ, err := d.Type()
	if err != nil {
		return ModuloHash{}, err
	}
	if typ == TypeFixedOutput {
		return h.fixedOutputHashes(d)
	}
	var few [4]inputGroup
	hs, err := h.prepare(d, visiting, few[:0])
	if err != nil {
		return ModuloHash{}, err
	}
	return hs.modulo(d, typ, maskOutputs), nil
}

// hashing is what hashing a derivation modulo needs besides the
// derivation: the modulo hashes of its inputs. A new derivation is hashed
// masked and then unmasked; both use one hashing.
type hashing struct {
	// inputs: inputs with equal hashes merge into one group; groups are
	// ordered by hash.
	inputs   []inputGroup
	deferred bool // an input depends on a floating derivation
}

// prepare works out the hashing of d, its input groups appended to buf
// (an array on the caller's stack holds those of most derivations).
func (h *Hasher) prepare(d *Sorted, visiting map[string]bool, buf []inputGroup) (hashing, error) {
	hs := hashing{inputs: buf}
	// Derivations have few inputs, so a slice beats a map.
	for _, in := range d.InputDrvs {
		input, err := h.hashModuloPath(in.Path, visiting)
		if err != nil {
			return hashing{}, err
		}
		hs.deferred = hs.deferred || input.Deferred
		for k, output := range in.Outputs {
			outputHash, ok := input.Output(output)
			if !ok {
				return hashing{}, fmt.Errorf("input derivation '%s' has no output '%s'", in.Path, output)
			}
			i := slices.IndexFunc(hs.inputs, func(g inputGroup) bool { return g.modulo == outputHash })
			if i < 0 {
				// The group shares the input's array until a second
				// output joins it (the capacity is cut to make that copy).
				hs.inputs = append(hs.inputs, inputGroup{modulo: outputHash, outputs: in.Outputs[k : k+1 : k+1]})
				continue
			}
			hs.inputs[i].outputs = append(hs.inputs[i].outputs, output)
		}
	}
	// Base-16 text sorts as the digest bytes do.
	slices.SortFunc(hs.inputs, func(a, b inputGroup) int { return a.modulo.Compare(b.modulo) })
	return hs, nil
}

// modulo is the modulo hash of d (not fixed-output), of type typ.
func (hs *hashing) modulo(d *Sorted, typ Type, maskOutputs bool) ModuloHash {
	m := ModuloHash{outputs: d.Outputs, Deferred: typ == TypeFloating || hs.deferred}
	d.sumATerm(maskOutputs, hs.inputs).CopyDigest(m.all[:])
	return m
}

func (h *Hasher) fixedOutputHashes(d *Sorted) (ModuloHash, error) {
	result := ModuloHash{Outputs: map[string]nixhash.Hash{}}
	for _, o := range d.Outputs {
		// The path is recomputed rather than read, as Nix does.
		path, err := fixedOutputPath(h.dir, d.Name, o.Name, o.Output)
		if err != nil {
			return ModuloHash{}, fmt.Errorf("output '%s' of '%s': %w", o.Name, d.Name, err)
		}
		result.Outputs[o.Name] = nixhash.SumString(nixhash.SHA256, "fixed:out:"+o.HashAlgo+":"+o.Hash+":"+path)
	}
	return result, nil
}
