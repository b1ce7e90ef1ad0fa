package image

import "github.com/nixl-project/nixl/realise/store/local"

// ClosureInfo returns the closure of roots in a local store with the
// references and sizes layering needs: what exportReferencesGraph gives
// the builder, for callers that have the store at hand.
func ClosureInfo(s *local.Store, roots []string) ([]PathInfo, error) {
	paths, err := s.Closure(roots)
	if err != nil {
		return nil, err
	}
	out := make([]PathInfo, 0, len(paths))
	for _, p := range paths {
		info, err := s.QueryPathInfo(p)
		if err != nil {
			return nil, err
		}
		out = append(out, PathInfo{Path: p, References: info.References, NarSize: info.NarSize})
	}
	return out, nil
}
