package builtins

import (
	"cmp"
	"slices"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

var (
	symStartSet = eval.Intern("startSet")
	symOperator = eval.Intern("operator")
	symKey      = eval.Intern("key")
)

func primGenericClosure(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	attrs, err := e.ForceAttrs(args[0], noPos, argCtx(0, "genericClosure"))
	if err != nil {
		return eval.Value{}, err
	}
	const inArg = "in the attrset passed as argument to builtins.genericClosure"
	start := attrs.Get(symStartSet)
	if start == nil {
		return eval.Value{}, missingAttr("startSet", inArg)
	}
	if err := e.ForceAt(&start.Value, noPos); err != nil {
		return eval.Value{}, err
	}
	startSet, err := e.ForceList(start.Value, noPos, "while evaluating the 'startSet' attribute passed as argument to builtins.genericClosure")
	if err != nil {
		return eval.Value{}, err
	}
	if len(startSet) == 0 {
		return start.Value, nil
	}
	opAttr := attrs.Get(symOperator)
	if opAttr == nil {
		return eval.Value{}, missingAttr("operator", inArg)
	}
	op, err := e.ForceFunction(opAttr.Value, noPos, "while evaluating the 'operator' attribute passed as argument to builtins.genericClosure")
	if err != nil {
		return eval.Value{}, err
	}

	queue := append(make([]eval.Value, 0, len(startSet)), startSet...)
	res := make([]eval.Value, 0, len(startSet))
	keys := keySet{e: e}
	for head := 0; head < len(queue); head++ {
		elem := queue[head]
		queue[head] = eval.Value{}
		if err := e.ForceAt(&elem, noPos); err != nil {
			return eval.Value{}, elementTrace(e, err, elem)
		}
		ea, err := e.ForceAttrs(elem, noPos, "")
		if err != nil {
			return eval.Value{}, elementTrace(e, err, elem)
		}
		k := ea.Get(symKey)
		if k == nil {
			return eval.Value{}, elementTrace(e, missingAttr("key", ""), elem)
		}
		if err := e.ForceAt(&k.Value, noPos); err != nil {
			return eval.Value{}, err
		}
		added, err := keys.insert(k.Value, elem)
		if err != nil {
			return eval.Value{}, err
		}
		if !added {
			continue
		}
		res = append(res, elem)

		next, err := call1(e, op, elem)
		if err == nil {
			var xs []eval.Value
			xs, err = e.ForceList(next, noPos, "while evaluating the return value of the `operator` passed to builtins.genericClosure")
			for i := 0; err == nil && i < len(xs); i++ {
				if err = e.ForceAt(&xs[i], noPos); err == nil {
					queue = append(queue, xs[i])
				}
			}
		}
		if err != nil {
			return eval.Value{}, eval.AddTrace(err, noPos, "while calling operator on genericClosure element %s", e.ShowValueShort(elem))
		}
	}
	return eval.List(res), nil
}

func elementTrace(e *eval.Eval, err error, elem eval.Value) error {
	return eval.AddTrace(err, noPos, "in genericClosure element %s", e.ShowValueShort(elem))
}

// keySet records the keys genericClosure has seen. Keys are equal when
// neither is less than the other, as in Nix (whose set is ordered by the
// < of the language). Sets of only strings, only paths or only integers
// use hash maps; anything else (floats, lists, mixed numbers) an ordered
// slice searched with <. A key that cannot be compared with the others
// is an error naming both elements.
type keySet struct {
	e     *eval.Eval
	kind  eval.Kind // of the keys in the hash maps; KindInvalid before the first key
	ord   bool      // the keys are in sorted, not in the maps
	strs  map[string]struct{}
	ints  map[int64]eval.Value // key → element
	first keyEntry             // the first key, for error messages
	// sorted holds the keys (with their elements) in increasing order.
	sorted []keyEntry
}

type keyEntry struct {
	key, elem eval.Value
}

func (s *keySet) insert(key, elem eval.Value) (bool, error) {
	if s.ord {
		return s.insertSorted(key, elem)
	}
	k := key.Kind()
	if s.kind == eval.KindInvalid {
		s.first = keyEntry{key, elem}
		switch k {
		case eval.KindString, eval.KindPath:
			s.kind = k
			s.strs = map[string]struct{}{}
		case eval.KindInt:
			s.kind = k
			s.ints = map[int64]eval.Value{}
		default:
			s.ord = true
			return s.insertSorted(key, elem)
		}
	}
	switch {
	case k == s.kind && s.ints != nil:
		n := key.IntValue()
		if _, ok := s.ints[n]; ok {
			return false, nil
		}
		s.ints[n] = elem
		return true, nil
	case k == s.kind:
		str := key.Str()
		if _, ok := s.strs[str]; ok {
			return false, nil
		}
		s.strs[str] = struct{}{}
		return true, nil
	case s.kind == eval.KindInt && k == eval.KindFloat:
		// Integers and floats compare with each other: move the integer
		// keys to the ordered slice.
		s.ord = true
		for n, el := range s.ints {
			s.sorted = append(s.sorted, keyEntry{eval.Int(n), el})
		}
		slices.SortFunc(s.sorted, func(a, b keyEntry) int { return cmp.Compare(a.key.IntValue(), b.key.IntValue()) })
		s.ints = nil
		return s.insertSorted(key, elem)
	}
	// Mixing kinds: the comparison fails, with Nix's message.
	_, err := s.e.LessThan(key, s.first.key, noPos)
	if err == nil {
		err = eval.Errorf(eval.ErrEval, noPos, "cannot compare %s with %s", key.ShowType(), s.first.key.ShowType())
	}
	return false, s.compareTrace(err, elem, s.first.elem)
}

// insertSorted adds key unless an equivalent key is there, searching as
// an ordered tree does: first for the leftmost key greater than key, then
// whether its predecessor is less than key.
func (s *keySet) insertSorted(key, elem eval.Value) (bool, error) {
	lo, hi := 0, len(s.sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		lt, err := s.e.LessThan(key, s.sorted[m].key, noPos)
		if err != nil {
			return false, s.insertError(err, key, elem)
		}
		if lt {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo > 0 {
		lt, err := s.e.LessThan(s.sorted[lo-1].key, key, noPos)
		if err != nil {
			return false, s.insertError(err, key, elem)
		}
		if !lt {
			return false, nil
		}
	}
	s.sorted = append(s.sorted, keyEntry{})
	copy(s.sorted[lo+1:], s.sorted[lo:])
	s.sorted[lo] = keyEntry{key, elem}
	return true, nil
}

// insertError names the element whose key could not be compared: the
// first (in key order) whose key fails to compare with key.
func (s *keySet) insertError(err error, key, elem eval.Value) error {
	for _, other := range s.sorted {
		if _, cerr := s.e.LessThan(key, other.key, noPos); cerr != nil {
			return s.compareTrace(err, elem, other.elem)
		}
	}
	return eval.AddTrace(err, noPos, "while checking key of element %s", s.e.ShowValueShort(elem))
}

func (s *keySet) compareTrace(err error, elem, other eval.Value) error {
	err = eval.AddTrace(err, noPos, "with element %s", s.e.ShowValueShort(other))
	return eval.AddTrace(err, noPos, "while comparing element %s", s.e.ShowValueShort(elem))
}
