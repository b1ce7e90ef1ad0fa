package lang

// slab hands out values of T from chunks, so that building a syntax tree
// costs one allocation per chunk instead of one per node. A tree is kept
// or dropped as a whole, so chunks do not keep much garbage alive.
//
// Chunks start small and double up to slabChunk elements, so that the many
// small files of an evaluation do not each get a big chunk of every kind.
type slab[T any] struct {
	free []T
	next int // the size of the next chunk; 0 means slabFirstChunk
}

const (
	slabFirstChunk = 4
	slabChunk      = 128
)

// nextChunk returns the size for a new chunk of at least n elements.
func nextChunk(next *int, n int) int {
	size := max(*next, slabFirstChunk)
	*next = min(2*size, slabChunk)
	return max(size, n)
}

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, nextChunk(&s.next, 1))
	}
	x := &s.free[0]
	s.free = s.free[1:]
	return x
}

// alloc returns a copy of v from s.
func alloc[T any](s *slab[T], v T) *T {
	x := s.new()
	*x = v
	return x
}

// sliceSlab hands out exact-length slices of T from chunks.
type sliceSlab[T any] struct {
	free []T
	next int
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
		s.free = make([]T, nextChunk(&s.next, n))
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
	defPtrs  sliceSlab[*AttrDef]
	formals  sliceSlab[Formal]
	lambdas  slab[Lambda]
	lists    slab[List]
	pathLits slab[Path]
	hasAttrs slab[HasAttr]
	ifs      slab[If]
	asserts  slab[Assert]
	withs    slab[With]
	lets     slab[Let]
	floats   slab[Float]
	unaries  slab[UnaryOp]
	dynDefs  slab[DynamicAttrDef]
}
