package lang

// slab hands out values of T from chunks, so that building a syntax tree
// costs one allocation per chunk instead of one per node. A tree is kept
// or dropped as a whole, so chunks do not keep much garbage alive.
type slab[T any] struct {
	free []T
}

const slabChunk = 128

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabChunk)
	}
	x := &s.free[0]
	s.free = s.free[1:]
	return x
}

// sliceSlab hands out exact-length slices of T from chunks.
type sliceSlab[T any] struct {
	free []T
}

// copy returns a slice with the elements of xs, taken from a chunk.
func (s *sliceSlab[T]) copy(xs []T) []T {
	n := len(xs)
	if n == 0 {
		return nil
	}
	if n > slabChunk/4 {
		return append([]T(nil), xs...)
	}
	if len(s.free) < n {
		s.free = make([]T, slabChunk)
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	copy(out, xs)
	return out
}

// nodes are the slabs of one parse.
type nodes struct {
	vars     slab[Var]
	ints     slab[Int]
	strings  slab[String]
	selects  slab[Select]
	calls    slab[Call]
	binaries slab[BinaryOp]
	defs     slab[AttrDef]
	attrs    slab[Attrs]
	paths    sliceSlab[AttrName]
	exprs    sliceSlab[Expr]
	parts    sliceSlab[StringPart]
}
