package eval

import "unsafe"

// Env is a scope at run time: the values of one let, rec set, function
// call or with, and the scope around it. Variable references are resolved
// at compile time to (levels up, slot), so lookups never search by name.
//
// The slots are held by a pointer to the first and a count rather than a
// slice: 8 bytes less, which puts the commonest scope (one slot, with its
// slot inline) in the 48-byte size class instead of the 64-byte one.
type Env struct {
	up    *Env
	first *Value
	n     uint32
	// captured is set once anything that may outlive the code running
	// in this scope points to it: a thunk, a closure, a captured inner
	// scope (capture marks the scopes around too). The scope of a call
	// that was never captured is recycled when the call returns
	// (Eval.releaseCallEnv), which saves most allocations of simple
	// recursive functions.
	captured bool
	// frame marks the scope of a callFrame, whose slot may hold the
	// frame's own argument thunk.
	frame bool
}

// vals returns the slots.
func (e *Env) vals() []Value { return unsafe.Slice(e.first, e.n) }

// Small environments carry their slots inline: one allocation instead of
// two for the commonest cases (a one-argument function call).
type env1 struct {
	Env
	slots [1]Value
}

type env2 struct {
	Env
	slots [2]Value
}

type env4 struct {
	Env
	slots [4]Value
}

func newEnv(up *Env, n int) *Env {
	switch {
	case n == 0:
		return &Env{up: up}
	case n == 1:
		e := &env1{}
		e.up, e.first, e.n = up, &e.slots[0], 1
		return &e.Env
	case n == 2:
		e := &env2{}
		e.up, e.first, e.n = up, &e.slots[0], 2
		return &e.Env
	case n <= 4:
		e := &env4{}
		e.up, e.first, e.n = up, &e.slots[0], uint32(n)
		return &e.Env
	}
	vals := make([]Value, n)
	return &Env{up: up, first: &vals[0], n: uint32(n)}
}

// capture marks env and the scopes around it as captured: whatever
// keeps env keeps them. Each scope is marked once, so the walk stops at
// the first one already marked.
func (env *Env) capture() {
	for ; env != nil && !env.captured; env = env.up {
		env.captured = true
	}
}

// maxFreeEnvs bounds the recycled scopes an evaluator keeps.
const maxFreeEnvs = 1 << 14

// callEnv returns a scope for a call of a function with n slots whose
// closure scope is up, recycled if possible.
func (e *Eval) callEnv(up *Env, n int) *Env {
	if n == 1 {
		if k := len(e.freeEnv1); k > 0 {
			env := e.freeEnv1[k-1]
			e.freeEnv1 = e.freeEnv1[:k-1]
			env.up = up
			return env
		}
	}
	return newEnv(up, n)
}

// releaseCallEnv recycles the scope of a call that has returned, unless
// something kept it.
func (e *Eval) releaseCallEnv(env *Env, err error) {
	// A failed call is not recycled: its error may hold on to a thunk
	// (an infinite recursion's).
	if env.captured || err != nil || env.n != 1 || len(e.freeEnv1) >= maxFreeEnvs {
		return
	}
	*env.first = Value{}
	env.up = nil
	e.freeEnv1 = append(e.freeEnv1, env)
}
