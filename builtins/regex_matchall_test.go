package builtins

import (
	"math/rand"
	"testing"
)

// For patterns without groups, match decides by following all paths at
// once (matchAll); it must agree with the backtracking search on every
// subject, for random patterns of the grammar (TestRegexGolden checks
// both against Nix's answers on its cases).
func TestRegexMatchAllAgreesWithSearch(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	patterns, subjects := 0, 0
	for range 40000 {
		pat, subs := randomRegexCase(rng, 1+rng.Intn(3))
		prog, err := reCompile(pat)
		if err != nil || prog.nsub != 1 {
			continue
		}
		patterns++
		for _, s := range append(subs, "", "abc", "aaaa", "abab") {
			subjects++
			x := newReExec(prog, s)
			x.begin, x.flags, x.exact, x.cur = 0, 0, true, 0
			search := x.main()
			all := x.matchAll()
			x.release()
			if search != all {
				t.Fatalf("pattern %q subject %q: search says %v, matchAll %v", pat, s, search, all)
			}
		}
	}
	if patterns < 2000 {
		t.Fatalf("only %d patterns without groups were tried", patterns)
	}
	t.Logf("%d patterns without groups, %d subjects", patterns, subjects)
}
