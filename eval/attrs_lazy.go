package eval

import (
	"cmp"
	"slices"
	"unsafe"
)

// A fold that lays a few attributes over a big set at every step,
// foldl' (acc: x: acc // { ${k x} = v x; }), copies the whole set each
// time: 20,000 steps over 1,024 attributes copy 650 MB, and the garbage
// keeps the collector busy. So big // small is kept as a lazyUpdate — the
// left set and the small right one — until something needs its
// attributes (Value.AttrsValue); then the chain of updates under it is
// merged in one pass, and the result kept. A chain is made flat once it
// is lazyUpdateMaxDepth deep, which bounds the walk of a set that is
// looked at after every step, and the work when each of a chain's
// intermediate sets is looked at newest first.
type lazyUpdate struct {
	left  Value // a set, flat or lazy; dropped once flat
	right Attrs // laid over left, at most lazyUpdateMaxRight
	depth int   // lazy updates in the chain, this one included
	flat  Attrs // the attributes, once done
	done  bool
}

const (
	lazyUpdateMinLeft  = 64
	lazyUpdateMaxRight = 16
	lazyUpdateMaxDepth = 32
)

// updateLazily returns a // y as a lazyUpdate when that is worth it.
func updateLazily(a Value, y Attrs) (Value, bool) {
	if len(y) > lazyUpdateMaxRight {
		return Value{}, false
	}
	depth := 1
	if a.f&flagLazyUpdate != 0 {
		u := (*lazyUpdate)(a.p)
		if u.done {
			a = AttrsValue(u.flat)
		} else if u.depth < lazyUpdateMaxDepth {
			depth = u.depth + 1
		} else {
			return Value{}, false
		}
	}
	if depth == 1 && a.n < lazyUpdateMinLeft {
		return Value{}, false
	}
	u := &lazyUpdate{left: a, right: y, depth: depth}
	return Value{k: KindAttrs, f: flagLazyUpdate, p: unsafe.Pointer(u)}, true
}

// attrs merges the chain: the right sets, newest first, sorted by name
// with the newest of each name kept, over the flat set at the bottom.
func (u *lazyUpdate) attrs() Attrs {
	if u.done {
		return u.flat
	}
	var over Attrs
	var base Attrs
	for n := u; ; {
		over = append(over, n.right...)
		l := n.left
		if l.f&flagLazyUpdate == 0 {
			base = l.AttrsValue()
			break
		}
		n = (*lazyUpdate)(l.p)
		if n.done {
			base = n.flat
			break
		}
	}
	slices.SortStableFunc(over, func(x, y Attr) int { return cmp.Compare(x.Name, y.Name) })
	newest := over[:1]
	for _, a := range over[1:] {
		if a.Name != newest[len(newest)-1].Name {
			newest = append(newest, a)
		}
	}
	if len(base) == 0 {
		u.flat = newest
	} else {
		u.flat = mergeAttrs(base, newest)
	}
	u.done, u.left, u.right = true, Value{}, nil
	return u.flat
}
