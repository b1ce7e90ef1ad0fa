package eval

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// contextOf10k is the context concatStringsSep collects from 10,000
// derivations' drvPath + outPath (testdata/bench/eval/drvs.nix).
func contextOf10k() []string {
	r := rand.New(rand.NewSource(1))
	const chars = "0123456789abcdfghijklmnpqrsvwxyz"
	var c []string
	for i := range 10000 {
		h := make([]byte, 32)
		for j := range h {
			h[j] = chars[r.Intn(len(chars))]
		}
		drv := fmt.Sprintf("/nix/store/%s-pkg-%d.drv", h, i)
		c = append(c, "!out!"+drv, "="+drv)
	}
	return c
}

func BenchmarkSortContext(b *testing.B) {
	src := contextOf10k()
	c := make([]string, len(src))
	b.ResetTimer()
	for range b.N {
		copy(c, src)
		sortContext(c)
	}
}

// sortContext sorts by bytes and drops duplicates, whatever the strings
// share: long common prefixes, prefixes of each other, zero bytes.
func TestSortContextOrder(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	alphabet := []byte{0, 'a', 'b', 0xff}
	for trial := 0; trial < 300; trial++ {
		var c []string
		for n := r.Intn(300); len(c) < n; {
			s := []byte("!out!/nix/store/"[:r.Intn(17)])
			for k := r.Intn(20); k > 0; k-- {
				s = append(s, alphabet[r.Intn(len(alphabet))])
			}
			c = append(c, string(s))
			if r.Intn(4) == 0 {
				c = append(c, string(s)) // a duplicate
			}
		}
		want := slices.Compact(slices.Sorted(slices.Values(c)))
		if got := sortContext(slices.Clone(c)); !slices.Equal(got, want) {
			t.Fatalf("sortContext(%q) = %q, want %q", c, got, want)
		}
	}
	if got := sortContext(contextOf10k()); !slices.IsSorted(got) || len(got) != 20000 {
		t.Fatalf("the 10,000-derivation context came out unsorted or short (%d)", len(got))
	}
}
