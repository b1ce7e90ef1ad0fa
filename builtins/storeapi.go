package builtins

import (
	"slices"
	"strings"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/nixhash"
)

// What the store builtins need beyond eval.Store. The evaluator's store
// (eval.Options.Store) may implement these interfaces; the builtins find
// them with a type assertion, so evaluation never depends on the realiser.
// cmd/nixl wires in an implementation from realise.

// Derivation is a store derivation as derivationStrict builds it: plain
// strings, so that the store that computes its paths needs nothing from
// the evaluator.
type Derivation struct {
	Name string
	// Outputs, sorted by name. derivationStrict fills in the kind of
	// each output; the store fills in the paths it can compute. A slice:
	// most derivations have one output, and a map for it cost half a
	// kilobyte.
	Outputs []DerivationOutput
	// InputDrvs, sorted by .drv path, each with the outputs used from it
	// (sorted, unique).
	InputDrvs []DerivationInput
	InputSrcs []string // sorted, unique
	Platform  string
	Builder   string
	Args      []string
	// Env, sorted by key. Slices rather than maps, because they come
	// sorted (from the attributes, in their order, and the string
	// context) and are written sorted, three times, to hash them.
	Env []EnvVar
}

// DerivationInput is an input derivation and the outputs used from it.
// It and EnvVar are unnamed struct types, which the realiser's
// derivation package spells the same way, so that the store takes the
// lists as they are, without copying them.
type DerivationInput = struct {
	Path    string
	Outputs []string
}

// EnvVar is one variable of the builder's environment.
type EnvVar = struct{ Key, Value string }

// setEnv sets the variable key. It appends, and sortEnv puts Env in
// order.
func (d *Derivation) setEnv(key, value string) { d.Env = append(d.Env, EnvVar{key, value}) }

// sortEnv sorts Env by key after setEnv; of a key set twice the later
// value counts, as in a map.
func (d *Derivation) sortEnv() {
	slices.SortStableFunc(d.Env, func(a, b EnvVar) int { return strings.Compare(a.Key, b.Key) })
	out := d.Env[:0]
	for i, v := range d.Env {
		if i+1 < len(d.Env) && d.Env[i+1].Key == v.Key {
			continue
		}
		out = append(out, v)
	}
	d.Env = out
}

// DerivationOutput is one output, in the three fields of a .drv file.
//
//	input-addressed  all empty; the store computes Path
//	fixed            HashAlgo ("sha256", "r:sha256", "text:sha256") and
//	                 Hash (base16); the store computes Path
//	floating         HashAlgo only; the path is known after building
type DerivationOutput struct {
	Name     string
	Path     string
	HashAlgo string
	Hash     string
}

// Output returns the output called name, or nil.
func (d *Derivation) Output(name string) *DerivationOutput {
	for i := range d.Outputs {
		if d.Outputs[i].Name == name {
			return &d.Outputs[i]
		}
	}
	return nil
}

// DerivationStore is a store that takes derivations.
type DerivationStore interface {
	eval.Store
	// AddDerivation fills in the output paths of d that can be computed
	// (and the environment variables named after those outputs), and
	// returns the .drv path; a writable store also writes the file.
	AddDerivation(d *Derivation) (string, error)
	// DerivationOutputs returns the outputs, sorted by name, of a
	// derivation added earlier in this session or found in the store.
	DerivationOutputs(drvPath string) ([]DerivationOutput, error)
	// IsValidPath reports whether a store path is present in the store.
	IsValidPath(path string) bool
	// QueryReferences returns the references of a valid store path, or
	// an error ("path '…' is not valid").
	QueryReferences(path string) ([]string, error)
	// FixedOutputPath computes the path of content with hash h added under
	// name with method "flat", "nar" (recursive) or "text".
	FixedOutputPath(name, method string, h nixhash.Hash) (string, error)
}

// Fetcher downloads for the fetch builtins, once the arguments are
// checked. When the store does not implement it, fetching fails with an
// error saying that it is not available.
type Fetcher interface {
	// FetchURL downloads url (fetchurl; with unpack, fetchTarball) into
	// the store under name and returns the store path. expectedHash is ""
	// or an SRI hash (sha256) the result must have.
	FetchURL(url, name string, unpack bool, expectedHash string) (string, error)
	// FetchTree fetches the input described by attrs (fetchTree's
	// attributes: type, url, rev, narHash, …; values are strings, bools
	// and uint64s) and returns the store path and the attributes of the
	// locked input (rev, narHash, lastModified…).
	FetchTree(attrs map[string]any) (storePath string, locked map[string]any, err error)
}

// Realiser builds derivation outputs during evaluation, for import from
// derivation: when a builtin that reads files (import, readFile,
// readDir, pathExists, hashFile…) is given a path whose string context
// names the output of a derivation ("!out!/…/x.drv"), it asks the store,
// if it implements Realiser, to realise that output first. cmd/nixl's
// writable store implements it with the realiser (realise/build); the
// read-only store of `nixl eval` does not, so there such reads fail as
// "cannot build '…' during evaluation".
type Realiser interface {
	// RealiseOutputs makes the named outputs of the derivation at drvPath
	// valid, building it (and what it needs) if they are not.
	RealiseOutputs(drvPath string, outputs []string) error
}

// derivationStore returns the store's derivation side, if it has one.
func derivationStore(e *eval.Eval) (DerivationStore, bool) {
	ds, ok := e.Store.(DerivationStore)
	return ds, ok
}

// storeFetcher returns the store's fetcher, if it has one.
func storeFetcher(e *eval.Eval) (Fetcher, bool) {
	f, ok := e.Store.(Fetcher)
	return f, ok
}
