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
