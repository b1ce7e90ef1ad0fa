package lang

import (
	"sort"
	"strings"
)

// Suggest returns Nix's "Did you mean …?" hint for a misspelt name, or "":
// up to five candidates within edit distance 2, nearest first.
func Suggest(candidates []string, wrong string) string {
	type scored struct {
		name string
		dist int
	}
	var best []scored
	for _, c := range candidates {
		d := EditDistance(c, wrong)
		if d <= 2 {
			best = append(best, scored{c, d})
		}
	}
	if len(best) == 0 {
		return ""
	}
	sort.SliceStable(best, func(i, j int) bool {
		if best[i].dist != best[j].dist {
			return best[i].dist < best[j].dist
		}
		return best[i].name < best[j].name
	})
	if len(best) > 5 {
		best = best[:5]
	}
	if len(best) == 1 {
		return "Did you mean " + best[0].name + "?"
	}
	var names []string
	for _, b := range best {
		names = append(names, b.name)
	}
	return "Did you mean one of " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + "?"
}

// EditDistance is the Levenshtein distance of a and b, in bytes.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
