package builtins

import (
	"errors"
	"math/rand"
	"slices"
	"testing"

	"github.com/nixl-project/nixl/eval"
)

func ints(xs []eval.Value) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = x.IntValue()
	}
	return out
}

// TestSorterStable checks the sort against Go's stable sort, on keys
// with many repeats (the low bits of the values are their original
// index, which the comparison ignores).
func TestSorterStable(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 2, 3, 15, 16, 17, 31, 33, 100, 257, 1000} {
		for _, keys := range []int{1, 3, 50, 1 << 30} {
			for _, shape := range []string{"random", "sorted", "reversed", "runs"} {
				xs := make([]eval.Value, n)
				for i := range xs {
					var k int64
					switch shape {
					case "random":
						k = r.Int63n(int64(keys))
					case "sorted":
						k = int64(i * keys / max(n, 1))
					case "reversed":
						k = int64((n - i) * keys / max(n, 1))
					case "runs":
						k = int64((i % 10) * keys / 10)
					}
					xs[i] = eval.Int(k<<20 | int64(i))
				}
				want := slices.Clone(xs)
				slices.SortStableFunc(want, func(a, b eval.Value) int {
					return int(a.IntValue()>>20) - int(b.IntValue()>>20)
				})
				calls := 0
				s := sorter{less: func(a, b eval.Value) (bool, error) {
					calls++
					return a.IntValue()>>20 < b.IntValue()>>20, nil
				}}
				s.sort(xs)
				if !slices.Equal(ints(xs), ints(want)) {
					t.Fatalf("n=%d keys=%d %s: got %v, want %v", n, keys, shape, ints(xs), ints(want))
				}
				if n > 16 && calls > 3*n*bitsLen(n) {
					t.Errorf("n=%d keys=%d %s: %d comparisons", n, keys, shape, calls)
				}
			}
		}
	}
}

func bitsLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

// TestSorterBadComparator checks that comparators that are not orders
// give a permutation of the input.
func TestSorterBadComparator(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	comparators := map[string]func(a, b eval.Value) bool{
		"true":   func(a, b eval.Value) bool { return true },
		"false":  func(a, b eval.Value) bool { return false },
		"random": func(a, b eval.Value) bool { return r.Intn(2) == 0 },
		"lessEq": func(a, b eval.Value) bool { return a.IntValue() <= b.IntValue() },
	}
	for name, less := range comparators {
		for _, n := range []int{2, 5, 17, 64, 500} {
			xs := make([]eval.Value, n)
			for i := range xs {
				xs[i] = eval.Int(int64(r.Intn(n)))
			}
			want := ints(xs)
			slices.Sort(want)
			s := sorter{less: func(a, b eval.Value) (bool, error) { return less(a, b), nil }}
			s.sort(xs)
			got := ints(xs)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, n=%d: not a permutation", name, n)
			}
		}
	}
}

// TestSorterError checks that the comparator is not called again after
// it failed, and that the error is kept.
func TestSorterError(t *testing.T) {
	for _, n := range []int{2, 10, 100} {
		xs := make([]eval.Value, n)
		for i := range xs {
			xs[i] = eval.Int(int64(n - i))
		}
		// The comparator fails on its second call (its first for n = 2,
		// which makes only one).
		failAt := 2
		if n == 2 {
			failAt = 1
		}
		calls := 0
		boom := errors.New("boom")
		s := sorter{less: func(a, b eval.Value) (bool, error) {
			calls++
			if calls == failAt {
				return false, boom
			}
			return a.IntValue() < b.IntValue(), nil
		}}
		s.sort(xs)
		if s.err != boom {
			t.Fatalf("n=%d: err = %v", n, s.err)
		}
		if calls != failAt {
			t.Fatalf("n=%d: %d calls, want %d", n, calls, failAt)
		}
	}
}
