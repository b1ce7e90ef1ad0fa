package eval

import (
	"math/rand"
	"testing"
)

// Get finds every attribute and no other name, whatever the spread of the
// symbols (consecutive, random, clustered).
func TestAttrsGetSpreads(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 300; trial++ {
		n := 9 + r.Intn(3000)
		seen := map[Sym]bool{}
		var a Attrs
		base := Sym(r.Intn(1000))
		for len(a) < n {
			var s Sym
			switch trial % 3 {
			case 0:
				s = base + Sym(len(a))
			case 1:
				s = Sym(r.Intn(1 << 20))
			default:
				s = Sym(r.Intn(50)) + Sym(r.Intn(4))*Sym(100000)
				if len(seen) >= 200 {
					n = len(a)
				}
			}
			if !seen[s] {
				seen[s] = true
				a = append(a, Attr{Name: s})
			}
		}
		a = SortAttrs(a)
		for i := range a {
			if got := a.Get(a[i].Name); got != &a[i] {
				t.Fatalf("trial %d: Get(%d) missed", trial, a[i].Name)
			}
		}
		for k := 0; k < 200; k++ {
			s := Sym(r.Intn(1 << 21))
			if got := a.Get(s); (got != nil) != seen[s] {
				t.Fatalf("trial %d: Get(%d) = %v, present %v", trial, s, got, seen[s])
			}
		}
	}
}
