package eval

import "unsafe"

// A loop that forces a list's elements in turn — foldl', filter, deepSeq —
// spends much of its time waiting for memory: the elements' thunks were
// made long before, scattered over the heap, and forcing one reads the
// thunk and then its scope, two cache misses in a row. So such loops ask
// the CPU for what the next elements will need while they work on the
// current one: the thunk prefetchFar elements ahead, and for the element
// prefetchNear ahead, whose thunk has arrived by then, what it points to
// (a pending thunk's scope, a done thunk's set or list). Measured on
// testdata/bench/eval/modules.nix, whose merge folds over definitions
// made in a thousand different modules: about a tenth less time.
// A prefetch never faults, and one that is not needed costs little.
const (
	prefetchFar  = 4
	prefetchNear = 2
)

// PrefetchAhead prefetches for a loop at xs[i] that forces every element
// in order.
func PrefetchAhead(xs []Value, i int) {
	if i+prefetchFar < len(xs) {
		prefetchValue(&xs[i+prefetchFar])
	}
	if i+prefetchNear < len(xs) {
		prefetchInside(&xs[i+prefetchNear])
	}
}

// PrefetchAttrsAhead is PrefetchAhead for the values of a set's
// attributes.
func PrefetchAttrsAhead(attrs Attrs, i int) {
	if i+prefetchFar < len(attrs) {
		prefetchValue(&attrs[i+prefetchFar].Value)
	}
	if i+prefetchNear < len(attrs) {
		prefetchInside(&attrs[i+prefetchNear].Value)
	}
}

// prefetchValue asks for the thunk v points to.
func prefetchValue(v *Value) {
	if v.k == KindThunk {
		prefetch(uintptr(v.p))
	}
}

// prefetchInside asks for what forcing v reads after the thunk itself.
func prefetchInside(v *Value) {
	if v.k != KindThunk {
		return
	}
	t := v.thunk()
	switch t.val.k {
	case KindInvalid:
		// Only a code thunk has an env field (see appThunk1).
		if t.val.f>>6 == 0 && t.env != nil {
			prefetch(uintptr(unsafe.Pointer(t.env.first)))
		}
	case KindAttrs, KindList:
		prefetch(uintptr(t.val.p))
	}
}
