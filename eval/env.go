package eval

// Env is a scope at run time: the values of one let, rec set, function
// call or with, and the scope around it. Variable references are resolved
// at compile time to (levels up, slot), so lookups never search by name.
type Env struct {
	up   *Env
	vals []Value
}

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
	case n <= 1:
		e := &env1{}
		e.up = up
		e.vals = e.slots[:n]
		return &e.Env
	case n == 2:
		e := &env2{}
		e.up = up
		e.vals = e.slots[:]
		return &e.Env
	case n <= 4:
		e := &env4{}
		e.up = up
		e.vals = e.slots[:n]
		return &e.Env
	}
	return &Env{up: up, vals: make([]Value, n)}
}
