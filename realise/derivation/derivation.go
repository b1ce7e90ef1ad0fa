package derivation

import (
	"github.com/nixl-project/nixl/nixhash"

	"fmt"
	"slices"

	"github.com/nixl-project/nixl/realise/store"
)

// Derivation is a build recipe as stored in a .drv file.
type Derivation struct {
	// Name is the derivation name; it is not part of the ATerm text but
	// names the .drv file ("<name>.drv") and the outputs.
	Name string
	// Outputs maps output names ("out", "dev", …) to their specification.
	Outputs map[string]Output
	// InputDrvs maps the .drv path of each input derivation to the names of
	// the outputs used from it.
	InputDrvs map[string][]string
	// InputSrcs are store paths (sources, text files) used directly.
	InputSrcs []string
	Platform  string
	Builder   string
	Args      []string
	Env       map[string]string
}

// Output is one output of a derivation, in the three fields of the ATerm.
type Output struct {
	// Path is the absolute output path, or "" while it is not known
	// (deferred and floating content-addressed outputs).
	Path string
	// HashAlgo is "" for input-addressed outputs, otherwise the content
	// address method prefix and algorithm: "sha256", "r:sha256", "text:sha256".
	HashAlgo string
	// Hash is the expected digest in lowercase base16 for fixed outputs and
	// "" otherwise.
	Hash string
}

// OutputKind classifies an output by which of its fields are set.
type OutputKind uint8

const (
	InputAddressedOutput OutputKind = iota // path only
	FixedOutput                            // path, hash algorithm and hash
	FloatingOutput                         // hash algorithm only
	DeferredOutput                         // nothing yet
)

// Kind classifies o. It does not validate the fields.
func (o Output) Kind() OutputKind {
	switch {
	case o.HashAlgo != "" && o.Hash != "":
		return FixedOutput
	case o.HashAlgo != "":
		return FloatingOutput
	case o.Path != "":
		return InputAddressedOutput
	}
	return DeferredOutput
}

// FixedHash parses the content address of a fixed output.
func (o Output) FixedHash() (store.ContentAddressMethod, nixhash.Hash, error) {
	if o.Kind() != FixedOutput {
		return 0, nixhash.Hash{}, fmt.Errorf("output is not fixed-output (hash algorithm %q, hash %q)", o.HashAlgo, o.Hash)
	}
	method, algo, err := store.ParseMethodAlgorithm(o.HashAlgo)
	if err != nil {
		return 0, nixhash.Hash{}, err
	}
	h, err := nixhash.ParseUnprefixed(o.Hash, algo)
	if err != nil {
		return 0, nixhash.Hash{}, err
	}
	return method, h, nil
}

// Type says how the outputs of a derivation are addressed. All outputs of a
// derivation must be of the same kind.
type Type uint8

const (
	TypeInputAddressed Type = iota
	TypeFixedOutput
	TypeFloating
	TypeDeferred
)

func (t Type) String() string {
	switch t {
	case TypeInputAddressed:
		return "input-addressed"
	case TypeFixedOutput:
		return "fixed-output"
	case TypeFloating:
		return "floating content-addressed"
	case TypeDeferred:
		return "deferred input-addressed"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Type classifies d, rejecting derivations without outputs, with mixed
// output kinds, or with a fixed output other than a single "out".
func (d *Derivation) Type() (Type, error) {
	return d.Sorted().Type()
}

func errNoOutputs(name string) error { return fmt.Errorf("derivation '%s' has no outputs", name) }

// OutputNames returns the output names in sorted order.
func (d *Derivation) OutputNames() []string {
	return sortedKeys(d.Outputs)
}

// NamedOutput is an output with its name.
type NamedOutput struct {
	Name string
	Output
}

// NamedOutputs lists the outputs sorted by name.
func (d *Derivation) NamedOutputs() []NamedOutput {
	out := make([]NamedOutput, 0, len(d.Outputs))
	for _, name := range d.OutputNames() {
		out = append(out, NamedOutput{Name: name, Output: d.Outputs[name]})
	}
	return out
}

// References are the store paths a .drv file refers to: its input sources
// and input derivations, sorted and without duplicates. Output paths are not
// references, so that a .drv does not keep its outputs alive.
func (d *Derivation) References() []string {
	return d.Sorted().references(nil)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortedUnique returns s sorted and without duplicates: s itself when it
// is already (a derivation's input lists usually are), else a copy.
func sortedUnique(s []string) []string {
	if isSortedUnique(s) {
		return s
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func isSortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}
