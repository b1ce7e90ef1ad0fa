package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestName is the file in a generation's store path that holds its
// manifest.
const ManifestName = "manifest.json"

// manifestVersion is the version of the manifest format written.
const manifestVersion = 1

// DefaultPriority is the priority of an element installed without one
// (as in Nix: a lower number wins collisions).
const DefaultPriority = 5

// Manifest lists the elements installed in a generation.
type Manifest struct {
	Version  int       `json:"version"`
	Elements []Element `json:"elements"`
}

// Element is one installed package.
type Element struct {
	// Name is the package's name without its version ("hello" for
	// hello-2.10); installing an element of the same name replaces it.
	Name string `json:"name"`
	// Version is the rest of the derivation name ("2.10"), or "".
	Version string `json:"version"`
	// AttrPath is the attribute path it was selected with (-A), and
	// Source the file it was evaluated from (absolute), if any.
	AttrPath string `json:"attrPath,omitempty"`
	Source   string `json:"source,omitempty"`
	// Outputs are the derivation outputs installed, StorePaths their
	// paths (in the same order).
	Outputs    []string `json:"outputs"`
	StorePaths []string `json:"storePaths"`
	Priority   int      `json:"priority"`
}

// SplitName splits a derivation name into name and version as Nix's
// DrvName does: at the first dash not followed by a letter.
func SplitName(drvName string) (name, version string) {
	for i := 0; i+1 < len(drvName); i++ {
		if c := drvName[i+1]; drvName[i] == '-' && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return drvName[:i], drvName[i+1:]
		}
	}
	return drvName, ""
}

// Label is name-version, or the name alone.
func (e *Element) Label() string {
	if e.Version == "" {
		return e.Name
	}
	return e.Name + "-" + e.Version
}

// Find returns the index of the element named name, or -1.
func (m *Manifest) Find(name string) int {
	for i := range m.Elements {
		if m.Elements[i].Name == name {
			return i
		}
	}
	return -1
}

// Install adds e, replacing the element of the same name, and returns
// the element it replaced, if any.
func (m *Manifest) Install(e Element) *Element {
	if i := m.Find(e.Name); i >= 0 {
		old := m.Elements[i]
		m.Elements[i] = e
		return &old
	}
	m.Elements = append(m.Elements, e)
	m.sort()
	return nil
}

// Remove deletes the elements whose name or attribute path is name and
// returns them.
func (m *Manifest) Remove(name string) []Element {
	var removed []Element
	m.Elements = slices.DeleteFunc(m.Elements, func(e Element) bool {
		if e.Name == name || e.AttrPath != "" && e.AttrPath == name {
			removed = append(removed, e)
			return true
		}
		return false
	})
	return removed
}

func (m *Manifest) sort() {
	slices.SortStableFunc(m.Elements, func(a, b Element) int { return strings.Compare(a.Name, b.Name) })
}

// check validates a manifest read from a file.
func (m *Manifest) check() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("unsupported manifest version %d", m.Version)
	}
	for _, e := range m.Elements {
		if e.Name == "" {
			return fmt.Errorf("an element has no name")
		}
		if len(e.Outputs) != len(e.StorePaths) {
			return fmt.Errorf("element '%s' has %d outputs but %d store paths", e.Name, len(e.Outputs), len(e.StorePaths))
		}
	}
	return nil
}

// Marshal renders the manifest as written into a generation: sorted by
// name, indented, with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	c := Manifest{Version: manifestVersion, Elements: slices.Clone(m.Elements)}
	if c.Elements == nil {
		c.Elements = []Element{}
	}
	c.sort()
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ReadManifest reads the manifest of a generation (its store path, or a
// link to it). A tree without manifest.json is an empty profile.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{Version: manifestVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("malformed profile manifest '%s': %v", filepath.Join(dir, ManifestName), err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("profile manifest '%s': %v", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
}

// Change is the difference between two manifests for one name.
type Change struct {
	Name     string
	Old, New []string // versions; nil when absent
}

// Diff returns, sorted by name, the names whose versions differ between
// old and new (either may be nil: nothing installed).
func Diff(old, new *Manifest) []Change {
	versions := func(m *Manifest) map[string][]string {
		out := map[string][]string{}
		if m == nil {
			return out
		}
		for _, e := range m.Elements {
			out[e.Name] = append(out[e.Name], e.Version)
		}
		return out
	}
	a, b := versions(old), versions(new)
	var names []string
	for n := range a {
		names = append(names, n)
	}
	for n := range b {
		if _, ok := a[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Change
	for _, n := range names {
		if !slices.Equal(a[n], b[n]) {
			out = append(out, Change{Name: n, Old: a[n], New: b[n]})
		}
	}
	return out
}

// String renders a change as Nix's profile history does:
// "hello: 1.0 -> 2.0", with ∅ for absent and ε for an empty version.
func (c Change) String() string {
	show := func(vs []string) string {
		if len(vs) == 0 {
			return "∅"
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			if v == "" {
				v = "ε"
			}
			out[i] = v
		}
		return strings.Join(out, ", ")
	}
	return fmt.Sprintf("%s: %s -> %s", c.Name, show(c.Old), show(c.New))
}
