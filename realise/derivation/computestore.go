package derivation

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// ComputeStore is the store evaluation uses when nothing may be written,
// as for `nixl eval` and `nix-instantiate --eval`: it computes the store
// paths of files, texts and derivations exactly as Nix would name them, and
// remembers what it computed during the session, but it never writes to
// the store directory.
//
// As in Nix's read-only mode, a path it only computed is not valid: it is
// not in the store, so reading it or taking its closure fails. Paths that
// exist on disk in the store directory count as valid.
//
// It is safe for concurrent use.
type ComputeStore struct {
	dir    store.Dir
	hasher *Hasher

	// The hasher remembers the outputs of each derivation computed in
	// this session with its modulo hash, for the builtins that ask for
	// them (DerivationOutputs). The .drv text is not kept: as in Nix's
	// read-only mode, the file was never written, so it cannot be read
	// back; and at about 0.8 KB a derivation it was a tenth of the peak
	// memory of an evaluation of 10,000.

	mu   sync.Mutex
	refs map[string][]string // references of the texts computed in this session
}

// NewComputeStore returns a store that computes paths in dir.
func NewComputeStore(dir store.Dir) *ComputeStore {
	s := &ComputeStore{dir: dir, refs: map[string][]string{}}
	s.hasher = NewHasher(dir, s.ReadDerivation)
	return s
}

// Dir is the store directory.
func (s *ComputeStore) Dir() store.Dir { return s.dir }

// AddPath computes the path that adding the file or tree at src under name
// would give: for recursive, the NAR SHA-256 of the tree, keeping only the
// entries filter accepts, given each path and its store.FileKind (a
// source path); otherwise the SHA-256 of the file's bytes (a fixed-output
// path). src itself is never filtered. An error from filter stops the
// walk and is returned as is.
func (s *ComputeStore) AddPath(name, src string, recursive bool, filter func(path, kind string) (bool, error)) (string, error) {
	if recursive {
		var filterErr error
		var narFilter store.PathFilter
		if filter != nil {
			narFilter = func(path string) bool {
				if filterErr != nil {
					return false
				}
				ok, err := filter(path, store.FileKind(path))
				if err != nil {
					filterErr = err
					return false
				}
				return ok
			}
		}
		h, _, err := store.HashPath(nixhash.SHA256, src, narFilter)
		if filterErr != nil {
			return "", filterErr
		}
		if err != nil {
			return "", describeFileError(err)
		}
		return s.finish("source", h, name, func() (store.StorePath, error) {
			return s.dir.MakeSourcePath(name, h, nil, false)
		})
	}
	info, err := os.Lstat(src)
	if err != nil {
		return "", describeFileError(err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("file '%s' is not a regular file, so it cannot be added to the store with a flat hash", src)
	}
	f, err := os.Open(src)
	if err != nil {
		return "", describeFileError(err)
	}
	defer f.Close()
	h, _, err := nixhash.SumReader(nixhash.SHA256, f)
	if err != nil {
		return "", describeFileError(err)
	}
	inner := nixhash.SumString(nixhash.SHA256, "fixed:out:"+h.Encode(nixhash.Base16, true)+":")
	return s.finish("output:out", inner, name, func() (store.StorePath, error) {
		return s.dir.MakeFixedOutputPath(name, store.FlatMethod, h, nil, false)
	})
}

// AddText computes the path of a text file with the given references, as
// builtins.toFile and .drv files are stored.
func (s *ComputeStore) AddText(name, text string, refs []string) (string, error) {
	var paths []store.StorePath
	for _, r := range refs {
		p, err := s.dir.ParsePath(r)
		if err != nil {
			return "", err
		}
		paths = append(paths, p)
	}
	h := nixhash.Sum(nixhash.SHA256, []byte(text))
	var typ strings.Builder
	typ.WriteString("text")
	for _, p := range sortedUniqueStorePaths(paths) {
		typ.WriteString(":" + s.dir.Path(p))
	}
	abs, err := s.finish(typ.String(), h, name, func() (store.StorePath, error) {
		return s.dir.MakeTextPath(name, h, paths)
	})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.refs[abs] = slices.Clone(sortedUnique(refs))
	s.mu.Unlock()
	return abs, nil
}

// AddDerivation completes d and computes its .drv path: fixed outputs (a
// hash algorithm and a hash) get their content-addressed path; if every
// output is empty (input-addressed), the outputs get the paths their
// masked modulo hash gives, unless d depends on a floating
// content-addressed derivation; floating outputs (a hash algorithm only)
// stay without a path. The environment variable of each output is set to
// its path where one is known. The derivation is remembered for the hashes
// of derivations that depend on it.
func (s *ComputeStore) AddDerivation(d *Derivation) (string, error) {
	if len(d.Outputs) == 0 {
		return "", errNoOutputs(d.Name)
	}
	if d.Env == nil {
		d.Env = map[string]string{}
	}
	sd := d.Sorted()
	drvPath, err := s.AddSorted(sd)
	if err != nil {
		return "", err
	}
	for _, o := range sd.Outputs {
		d.Outputs[o.Name] = o.Output
	}
	for _, v := range sd.Env {
		if _, isOutput := d.Outputs[v.Key]; isOutput {
			d.Env[v.Key] = v.Value
		}
	}
	return drvPath, nil
}

// AddSorted is AddDerivation for a derivation in sorted form.
func (s *ComputeStore) AddSorted(d *Sorted) (string, error) {
	if len(d.Outputs) == 0 {
		return "", errNoOutputs(d.Name)
	}
	inputAddressed := true
	for i, o := range d.Outputs {
		if o.Name == "" {
			return "", fmt.Errorf("derivation '%s' has an output with an empty name", d.Name)
		}
		if i > 0 && d.Outputs[i-1].Name >= o.Name {
			return "", fmt.Errorf("derivation '%s' has its outputs out of order or twice ('%s')", d.Name, o.Name)
		}
		if o.Kind() != DeferredOutput {
			inputAddressed = false
		}
	}
	var hs hashing
	var few [4]inputGroup
	if inputAddressed {
		for _, o := range d.Outputs {
			d.SetEnv(o.Name, "")
		}
		var err error
		if hs, err = s.hasher.setInputAddressed(d, few[:0]); err != nil {
			// An input that is not there is reported as such, as Nix does.
			var invalid *InvalidPathError
			if errors.As(err, &invalid) {
				return "", invalid
			}
			return "", err
		}
	} else {
		for i, o := range d.Outputs {
			if o.Kind() != FixedOutput {
				continue
			}
			p, err := fixedOutputPath(s.dir, d.Name, o.Name, o.Output)
			if err != nil {
				return "", err
			}
			d.Outputs[i].Path = p
			d.SetEnv(o.Name, p)
		}
	}
	buf := atermBuffers.Get().(*[]byte)
	defer atermBuffers.Put(buf)
	*buf = d.appendATerm((*buf)[:0], false, nil)
	drvPath, err := d.pathOfText(s.dir, *buf)
	if err != nil {
		return "", err
	}
	// The unmasked modulo hash, for derivations that depend on this one.
	var m ModuloHash
	if inputAddressed {
		typ, err := d.Type()
		if err != nil {
			return "", err
		}
		m = hs.modulo(d, typ, false)
	} else if m, err = s.hasher.hashModuloSorted(d, false, nil); err != nil {
		return "", err
	}
	m.outputs, m.computed = slices.Clone(d.Outputs), true
	s.hasher.remember(drvPath, m)
	return drvPath, nil
}

// ReadDerivation reads a .drv file from the store directory. A derivation
// only computed in this session is not there ("path '…' is not valid").
func (s *ComputeStore) ReadDerivation(drvPath string) (*Derivation, error) {
	if _, err := os.Lstat(drvPath); err != nil {
		return nil, &InvalidPathError{Path: drvPath}
	}
	return ReadFile(s.dir, drvPath)
}

// DerivationOutputs returns the outputs, sorted by name, of a derivation
// computed in this session or found in the store directory.
func (s *ComputeStore) DerivationOutputs(drvPath string) ([]NamedOutput, error) {
	if outputs, ok := s.hasher.computedOutputs(drvPath); ok {
		return outputs, nil
	}
	d, err := s.ReadDerivation(drvPath)
	if err != nil {
		return nil, err
	}
	return d.NamedOutputs(), nil
}

// InvalidPathError reports a store path that is not in the store.
type InvalidPathError struct{ Path string }

func (e *InvalidPathError) Error() string { return fmt.Sprintf("path '%s' is not valid", e.Path) }

// IsValidPath reports whether the store path exists in the store
// directory. Paths only computed by this store are not valid.
func (s *ComputeStore) IsValidPath(path string) bool {
	if _, err := s.dir.ParsePath(path); err != nil {
		return false
	}
	_, err := os.Lstat(path)
	return err == nil
}

// QueryReferences returns the references of a valid store path: those of
// a .drv file are read from it; other paths are assumed to have none, as
// this store keeps no database.
func (s *ComputeStore) QueryReferences(path string) ([]string, error) {
	if !s.IsValidPath(path) {
		return nil, &InvalidPathError{Path: path}
	}
	if strings.HasSuffix(path, store.DrvExtension) {
		d, err := s.ReadDerivation(path)
		if err != nil {
			return nil, err
		}
		return d.References(), nil
	}
	s.mu.Lock()
	refs := s.refs[path]
	s.mu.Unlock()
	return slices.Clone(refs), nil
}

// FixedOutputPath computes the path of content with hash h added under
// name by method, without references.
func (s *ComputeStore) FixedOutputPath(name string, method store.ContentAddressMethod, h nixhash.Hash) (string, error) {
	if reason := CheckStorePathName(name); reason != "" {
		return "", fmt.Errorf("invalid store path name '%s': %s", name, reason)
	}
	p, err := s.dir.MakeFixedOutputPath(name, method, h, nil, false)
	if err != nil {
		return "", err
	}
	return s.dir.Path(p), nil
}

// finish computes a store path with make, first checking the name the way
// Nix 2.36 does so that an invalid name is reported in its words, which
// name the would-be path: "path '<hash>-<name>' is not a valid store path:
// name '<name>' contains illegal character '~'".
func (s *ComputeStore) finish(pathType string, inner nixhash.Hash, name string, make func() (store.StorePath, error)) (string, error) {
	if reason := CheckStorePathName(name); reason != "" {
		fingerprint := pathType + ":" + inner.Encode(nixhash.Base16, true) + ":" + string(s.dir) + ":" + name
		digest := nixhash.Compress(nixhash.SumString(nixhash.SHA256, fingerprint), 20)
		return "", fmt.Errorf("path '%s-%s' is not a valid store path: %s", nixhash.EncodeBase32(digest), name, reason)
	}
	p, err := make()
	if err != nil {
		return "", err
	}
	return s.dir.Path(p), nil
}

// CheckStorePathName checks the name part of a store path as Nix 2.36
// does and returns why it is invalid, in Nix's words, or "" if it is valid.
func CheckStorePathName(name string) string {
	switch {
	case name == "":
		return "name must not be empty"
	case len(name) > store.MaxStorePathNameLen:
		return fmt.Sprintf("name '%s' must be no longer than %d characters", name, store.MaxStorePathNameLen)
	case name == "." || name == "..":
		return fmt.Sprintf("name '%s' is not valid", name)
	case strings.HasPrefix(name, ".-"):
		return fmt.Sprintf("name '%s' is not valid: first dash-separated component must not be '%s'", name, ".")
	case strings.HasPrefix(name, "..-"):
		return fmt.Sprintf("name '%s' is not valid: first dash-separated component must not be '%s'", name, "..")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+-._?=", c) >= 0 {
			continue
		}
		return fmt.Sprintf("name '%s' contains illegal character '%c'", name, c)
	}
	return ""
}

func sortedUniqueStorePaths(paths []store.StorePath) []store.StorePath {
	out := slices.Clone(paths)
	slices.SortFunc(out, func(a, b store.StorePath) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

// describeFileError turns the errors of reading a tree into Nix's words.
func describeFileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, os.ErrNotExist) {
			return fmt.Errorf("path '%s' does not exist", pe.Path)
		}
		return fmt.Errorf("%s '%s': %s", pe.Op, pe.Path, pe.Err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("unexpected end of file: %w", err)
	}
	return err
}
