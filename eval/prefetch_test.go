package eval

import (
	"errors"
	"testing"
)

// Prefetching looks inside thunks of every shape — a code thunk pending
// or done, applications (which have no env field), genList's indexed
// ones, failed ones — and must neither change them nor misread one
// shape as another (go test -race checks the pointer conversions).
func TestPrefetchLeavesValuesAlone(t *testing.T) {
	env := newEnv(nil, 1)
	env.vals()[0] = Int(7)
	var body code = &varCode{}
	done := codeThunk(&body, env)
	done.done(AttrsValue(Attrs{{Name: Intern("a"), Value: Int(1)}}), done.val)
	failed := codeThunk(&body, env)
	failed.fail(&Error{Kind: ErrEval}, failed.val)
	indexed := make([]Value, 3)
	NewIndexedApps(indexed, Int(0))
	xs := []Value{
		thunkValue(codeThunk(&body, env)),
		thunkValue(done),
		NewApp(Int(1), Int(2)),
		NewApp2(Int(1), Int(2), Int(3)),
		indexed[1],
		NewThunk(func() (Value, error) { return Value{}, errors.New("never forced") }),
		thunkValue(failed),
		Int(5),
		String("s"),
		List([]Value{Int(1)}),
		Value{},
	}
	// Leading nulls put every element at both distances from some i.
	xs = append(make([]Value, prefetchFar), xs...)
	before := append([]Value(nil), xs...)
	states := make([]Value, len(xs))
	for i, x := range xs {
		if x.k == KindThunk {
			states[i] = x.thunk().val
		}
	}
	attrs := make(Attrs, len(xs))
	for i := range xs {
		attrs[i].Value = xs[i]
	}
	for i := range xs {
		PrefetchAhead(xs, i)
		PrefetchAttrsAhead(attrs, i)
	}
	for i, x := range xs {
		if x != before[i] {
			t.Errorf("element %d changed: %v, was %v", i, x, before[i])
		}
		if x.k == KindThunk && x.thunk().val != states[i] {
			t.Errorf("thunk %d changed state", i)
		}
	}
}
