package local

import (
	"fmt"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// VerifyProblem is one inconsistency Verify found.
type VerifyProblem struct {
	Path string
	// Kind is "missing" (valid but absent from the store directory) or
	// "modified" (contents differ from the registered NAR hash or size).
	Kind string
	// Expected and Got are the registered and actual NAR hashes and sizes
	// of a modified path.
	Expected, Got         nixhash.Hash
	ExpectedSize, GotSize int64
}

func (p VerifyProblem) String() string {
	switch p.Kind {
	case "missing":
		return fmt.Sprintf("path '%s' is valid but has disappeared from the store", p.Path)
	case "modified":
		if p.Expected == p.Got {
			return fmt.Sprintf("path '%s' was modified! expected NAR size %d, got %d", p.Path, p.ExpectedSize, p.GotSize)
		}
		return fmt.Sprintf("path '%s' was modified! expected hash '%s', got '%s'", p.Path, p.Expected, p.Got)
	}
	return fmt.Sprintf("path '%s': %s", p.Path, p.Kind)
}

// Verify checks that every valid path exists and, with checkContents,
// that its NAR hash and size still match the database, as nix-store
// --verify [--check-contents] does. It reports problems without repairing
// them. It holds the GC lock shared, so no path disappears meanwhile.
func (s *Store) Verify(checkContents bool) ([]VerifyProblem, error) {
	if err := s.gc.rlock(); err != nil {
		return nil, err
	}
	defer s.gc.runlock()
	paths, err := s.QueryAllValidPaths()
	if err != nil {
		return nil, err
	}
	var problems []VerifyProblem
	for _, p := range paths {
		if !exists(p) {
			problems = append(problems, VerifyProblem{Path: p, Kind: "missing"})
			continue
		}
		if !checkContents {
			continue
		}
		info, err := s.QueryPathInfo(p)
		if err != nil {
			return problems, err
		}
		got, size, err := store.HashPath(nixhash.SHA256, p, nil)
		if err != nil {
			return problems, fmt.Errorf("hashing '%s': %w", p, err)
		}
		if got != info.NarHash || size != info.NarSize {
			problems = append(problems, VerifyProblem{
				Path: p, Kind: "modified",
				Expected: info.NarHash, Got: got,
				ExpectedSize: info.NarSize, GotSize: size,
			})
		}
	}
	return problems, nil
}
