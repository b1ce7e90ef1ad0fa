package image

import (
	"fmt"
	"sort"
	"strings"
)

// PathInfo is what layering needs to know of a store path: its
// references (which must all be in the closure given) and its size.
type PathInfo struct {
	Path       string   `json:"path"`
	References []string `json:"references"`
	NarSize    int64    `json:"narSize"`
}

// storeName is the part of a store path after its hash ("hello-2.12").
func storeName(p string) string {
	base := p[strings.LastIndexByte(p, '/')+1:]
	if _, name, ok := strings.Cut(base, "-"); ok {
		return name
	}
	return base
}

// Popularity returns, for each path of the closure, how many paths of
// the closure reach it through references (itself included): the
// paths most others depend on (the C library, say) score highest.
func Popularity(closure []PathInfo) (map[string]int, error) {
	index := make(map[string]int, len(closure))
	for i, p := range closure {
		if _, dup := index[p.Path]; dup {
			return nil, fmt.Errorf("store path '%s' is twice in the closure", p.Path)
		}
		index[p.Path] = i
	}
	refs := make([][]int, len(closure))
	for i, p := range closure {
		for _, r := range p.References {
			j, ok := index[r]
			if !ok {
				return nil, fmt.Errorf("store path '%s' refers to '%s', which is not in the closure", p.Path, r)
			}
			if j != i {
				refs[i] = append(refs[i], j)
			}
		}
	}
	count := make([]int, len(closure))
	stamp := make([]int, len(closure))
	var stack []int
	for q := range closure {
		mark := q + 1
		stack = append(stack[:0], q)
		stamp[q] = mark
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			count[n]++
			for _, r := range refs[n] {
				if stamp[r] != mark {
					stamp[r] = mark
					stack = append(stack, r)
				}
			}
		}
	}
	out := make(map[string]int, len(closure))
	for i, p := range closure {
		out[p.Path] = count[i]
	}
	return out, nil
}

// GroupLayers decides which store paths go into which layer, as
// dockerTools.buildLayeredImage does: the paths are ranked by
// popularity (then by name and path, so the order is deterministic),
// each of the first maxLayers-1 gets a layer of its own and the rest
// share the last one. Layers are listed most popular first, which is
// the bottom of the image. A layer of a single path depends only on
// that path, so its digest survives rebuilds in which it is unchanged.
func GroupLayers(closure []PathInfo, maxLayers int) ([][]string, error) {
	if len(closure) == 0 {
		return nil, nil
	}
	if maxLayers < 1 {
		return nil, fmt.Errorf("no layer left for the %d store paths (raise maxLayers)", len(closure))
	}
	pop, err := Popularity(closure)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(closure))
	for i, p := range closure {
		paths[i] = p.Path
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		if pop[a] != pop[b] {
			return pop[a] > pop[b]
		}
		if na, nb := storeName(a), storeName(b); na != nb {
			return na < nb
		}
		return a < b
	})
	var groups [][]string
	if len(paths) <= maxLayers {
		for _, p := range paths {
			groups = append(groups, []string{p})
		}
		return groups, nil
	}
	for _, p := range paths[:maxLayers-1] {
		groups = append(groups, []string{p})
	}
	rest := append([]string(nil), paths[maxLayers-1:]...)
	sort.Strings(rest)
	return append(groups, rest), nil
}
