package eval

import (
	"fmt"
	"unsafe"

	"github.com/nixl-project/nixl/lang"
)

// ForceDeep forces v and everything inside it (deepSeq, --strict). Values
// shared or cyclic are visited once.
func (e *Eval) ForceDeep(v *Value, pos lang.Pos) error {
	seen := map[unsafe.Pointer]bool{}
	return e.forceDeep(v, pos, seen)
}

func (e *Eval) forceDeep(v *Value, pos lang.Pos, seen map[unsafe.Pointer]bool) error {
	if p := determinePos(v); p.IsValid() {
		pos = p
	}
	if err := e.ForceAt(v, pos); err != nil {
		return err
	}
	switch v.k {
	case KindAttrs:
		if v.p == nil || seen[v.p] {
			return nil
		}
		seen[v.p] = true
		return e.forceDeepAttrs(v.AttrsValue(), pos, seen)
	case KindList:
		if v.p == nil || seen[v.p] {
			return nil
		}
		seen[v.p] = true
		return e.forceDeepElems(v.ListValue(), pos, seen)
	}
	return nil
}

// forceDeepAttrs and forceDeepElems force the insides of a set or list;
// functions of their own because of the defer, which would slow every
// return of forceDeep.
func (e *Eval) forceDeepAttrs(attrs Attrs, pos lang.Pos, seen map[unsafe.Pointer]bool) error {
	if err := e.enterNested(pos); err != nil {
		return err
	}
	defer e.leaveNested()
	for i := range attrs {
		PrefetchAttrsAhead(attrs, i)
		if err := e.forceDeep(&attrs[i].Value, pos, seen); err != nil {
			return addTrace(err, attrs[i].Pos(), "while evaluating the attribute '"+attrs[i].Name.String()+"'")
		}
	}
	return nil
}

func (e *Eval) forceDeepElems(elems []Value, pos lang.Pos, seen map[unsafe.Pointer]bool) error {
	if err := e.enterNested(pos); err != nil {
		return err
	}
	defer e.leaveNested()
	for i := range elems {
		PrefetchAhead(elems, i)
		if err := e.forceDeep(&elems[i], pos, seen); err != nil {
			return addTrace(err, lang.NoPos, fmt.Sprintf("while evaluating list element at index %d", i))
		}
	}
	return nil
}
