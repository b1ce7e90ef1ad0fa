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

// Lexicographic orders by bytes whatever the names share: prefixes of
// each other, eight or more equal leading bytes, zero bytes, bytes above
// 0x7f.
func TestLexicographicOrder(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	alphabet := []byte{0, 'a', 'b', 0x7f, 0x80, 0xff}
	for trial := 0; trial < 50; trial++ {
		seen := map[Sym]bool{}
		var a Attrs
		for n := 13 + r.Intn(200); len(a) < n; {
			name := []byte("sharedprefix"[:r.Intn(13)])
			for k := r.Intn(4); k > 0; k-- {
				name = append(name, alphabet[r.Intn(len(alphabet))])
			}
			if s := Intern(string(name)); !seen[s] {
				seen[s] = true
				a = append(a, Attr{Name: s})
			}
		}
		a = SortAttrs(a)
		got := a.Lexicographic()
		for i := 1; i < len(got); i++ {
			if x, y := got[i-1].Name.String(), got[i].Name.String(); x >= y {
				t.Fatalf("%q listed before %q", x, y)
			}
		}
	}
}
