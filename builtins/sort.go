package builtins

import "github.com/nixl-project/nixl/eval"

// sorter is builtins.sort's algorithm: peeksort (Munro and Wild, "Nearly
// optimal mergesorts", 2018), a stable natural merge sort that finds runs
// already in order and merges them, with insertion sort for short ranges.
// Like every merge sort it only moves elements around, so a comparator
// that is inconsistent (not a strict weak order) yields some permutation
// of the input, never a crash or a loop. It makes the same comparisons in
// the same order as Nix's implementation.
//
// The comparator may fail: the first error is kept in err, and from then
// on less answers false without calling it, so the sort winds down
// quickly without running more Nix code.
type sorter struct {
	less func(a, b eval.Value) (bool, error)
	err  error
	buf  []eval.Value
	x    []eval.Value
}

// insertionThreshold is the length up to which ranges are insertion sorted.
const insertionThreshold = 16

func (s *sorter) lt(a, b eval.Value) bool {
	if s.err != nil {
		return false
	}
	r, err := s.less(a, b)
	if err != nil {
		s.err = err
		return false
	}
	return r
}

func (s *sorter) sort(x []eval.Value) {
	s.x = x
	switch len(x) {
	case 0, 1:
		return
	case 2:
		if s.lt(x[1], x[0]) {
			x[0], x[1] = x[1], x[0]
		}
		return
	}
	s.buf = make([]eval.Value, len(x))
	s.peek(0, len(x), 0, len(x))
}

// peek sorts x[lo:hi], knowing that x[lo:leftEnd] and x[rightStart:hi] are
// already sorted runs.
func (s *sorter) peek(lo, hi, leftEnd, rightStart int) {
	if leftEnd == hi || rightStart == lo {
		return
	}
	if hi-lo <= insertionThreshold {
		s.insertion(lo, hi)
		return
	}
	mid := lo + (hi-lo)/2
	if mid <= leftEnd {
		s.peek(leftEnd, hi, leftEnd+1, rightStart)
		s.merge(lo, leftEnd, hi)
		return
	}
	if mid >= rightStart {
		s.peek(lo, rightStart, leftEnd, rightStart-1)
		s.merge(lo, rightStart, hi)
		return
	}
	// The run around the middle: weakly increasing, or strictly
	// decreasing (then reversed, which keeps the sort stable).
	x := s.x
	var i, j int
	if !s.lt(x[mid], x[mid-1]) {
		i = s.runBack(leftEnd, mid, false)
		j = s.runFwd(mid-1, rightStart, false)
	} else {
		i = s.runBack(leftEnd, mid, true)
		j = s.runFwd(mid-1, rightStart, true)
		for a, b := i, j-1; a < b; a, b = a+1, b-1 {
			x[a], x[b] = x[b], x[a]
		}
	}
	if i == lo && j == hi {
		return
	}
	if mid-i < j-mid {
		s.peek(lo, i, leftEnd, i-1)
		s.peek(i, hi, j, rightStart)
		s.merge(lo, i, hi)
	} else {
		s.peek(lo, j, leftEnd, i)
		s.peek(j, hi, j+1, rightStart)
		s.merge(lo, j, hi)
	}
}

// descends says whether b, following a, continues the run: b < a for a
// strictly decreasing run, !(b < a) for a weakly increasing one.
func (s *sorter) descends(a, b eval.Value, decreasing bool) bool {
	return s.lt(b, a) == decreasing
}

// runFwd returns the end of the run that starts at lo, looking no further
// than hi.
func (s *sorter) runFwd(lo, hi int, decreasing bool) int {
	if lo == hi {
		return lo
	}
	for lo+1 != hi && s.descends(s.x[lo], s.x[lo+1], decreasing) {
		lo++
	}
	return lo + 1
}

// runBack returns the start of the run that ends at hi, looking no further
// back than lo.
func (s *sorter) runBack(lo, hi int, decreasing bool) int {
	if lo == hi {
		return hi
	}
	for hi-1 > lo && s.descends(s.x[hi-2], s.x[hi-1], decreasing) {
		hi--
	}
	return hi - 1
}

func (s *sorter) insertion(lo, hi int) {
	x := s.x
	for cur := lo + 1; cur < hi; cur++ {
		for k := cur; k > lo && s.lt(x[k], x[k-1]); k-- {
			x[k], x[k-1] = x[k-1], x[k]
		}
	}
}

// merge merges the sorted runs x[lo:mid] and x[mid:hi]; on ties the left
// element goes first.
func (s *sorter) merge(lo, mid, hi int) {
	x := s.x
	w := s.buf[:hi-lo]
	copy(w, x[lo:hi])
	wm := mid - lo
	l, r, out := 0, wm, lo
	for l < wm && r < len(w) {
		if !s.lt(w[r], w[l]) {
			x[out] = w[l]
			l++
		} else {
			x[out] = w[r]
			r++
		}
		out++
	}
	out += copy(x[out:], w[l:wm])
	copy(x[out:], w[r:])
}
