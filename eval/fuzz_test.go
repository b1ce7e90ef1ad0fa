package eval_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// exprGen turns fuzzer bytes into a well-formed Nix expression. Each
// byte chooses a production of a small grammar (let, rec, with,
// lambdas, calls, sets, lists, strings with interpolation, arithmetic,
// comparisons, builtins calls); the variables it uses are those in
// scope, including the binding being defined, so recursive definitions
// (and infinite recursions) come up often. When the bytes run out every
// choice is 0, which is always a leaf, so generation ends.
type exprGen struct {
	data  []byte
	i     int
	depth int
	scope []string
	b     strings.Builder
}

// maxGenDepth bounds the nesting of generated expressions.
const maxGenDepth = 10

func (g *exprGen) byte() byte {
	if g.i >= len(g.data) {
		return 0
	}
	c := g.data[g.i]
	g.i++
	return c
}

func (g *exprGen) choose(n int) int { return int(g.byte()) % n }

func (g *exprGen) w(s ...string) {
	for _, x := range s {
		g.b.WriteString(x)
	}
}

// names are the identifiers bindings and parameters are drawn from;
// attribute names come from the same pool, so `with` and `inherit`
// find them.
var genNames = []string{"a", "b", "c", "f", "g", "x", "y", "self"}

func (g *exprGen) name() string { return genNames[g.choose(len(genNames))] }

// genBuiltins are the builtins calls are made to, with their arity;
// impure ones (files, environment, time, fetching, the store) are left
// out so that every run is deterministic and self-contained.
var genBuiltins = []struct {
	name  string
	arity int
}{
	{"map", 2}, {"filter", 2}, {"foldl'", 3}, {"genList", 2}, {"length", 1},
	{"head", 1}, {"tail", 1}, {"elemAt", 2}, {"attrNames", 1}, {"attrValues", 1},
	{"listToAttrs", 1}, {"concatStringsSep", 2}, {"toString", 1}, {"toJSON", 1},
	{"fromJSON", 1}, {"seq", 2}, {"deepSeq", 2}, {"tryEval", 1}, {"throw", 1},
	{"typeOf", 1}, {"isInt", 1}, {"isAttrs", 1}, {"substring", 3}, {"stringLength", 1},
	{"replaceStrings", 3}, {"split", 2}, {"match", 2}, {"concatMap", 2}, {"sort", 2},
	{"all", 2}, {"any", 2}, {"mapAttrs", 2}, {"removeAttrs", 2}, {"intersectAttrs", 2},
	{"catAttrs", 2}, {"hasAttr", 2}, {"getAttr", 2}, {"genericClosure", 1}, {"add", 2},
	{"sub", 2}, {"mul", 2}, {"div", 2}, {"lessThan", 2}, {"bitAnd", 2}, {"bitXor", 2},
	{"functionArgs", 1}, {"toXML", 1}, {"hashString", 2}, {"splitVersion", 1},
	{"compareVersions", 2}, {"elem", 2}, {"partition", 2}, {"groupBy", 2},
	{"zipAttrsWith", 2}, {"concatLists", 1}, {"fromTOML", 1}, {"isFunction", 1},
	{"unsafeDiscardStringContext", 1}, {"addErrorContext", 2}, {"ceil", 1}, {"floor", 1},
	{"escapeHTML", 1}, {"parseDrvName", 1}, {"attrsToList", 1}, {"mapAttrsToList", 2},
	{"abort", 1}, {"trace", 2}, {"warn", 2}, {"break", 1}, {"toFile", 2},
}

var genOps = []string{"+", "-", "*", "/", "++", "//", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "->"}

var genAtoms = []string{
	"0", "1", "2", "3", "7", "10", "-1", "1.5", "0.25", "1.0e3", "null", "true", "false",
	`""`, `"a"`, `"ab\n"`, `[ ]`, `{ }`, "9223372036854775807", "(-9223372036854775807 - 1)",
	"builtins.add", "(x: x)", `"$${x}"`, "4611686018427387904", "builtins", "__currentSystem",
}

// leaf writes a variable in scope or a constant.
func (g *exprGen) leaf() {
	if len(g.scope) > 0 && g.choose(2) == 0 {
		g.w(g.scope[g.choose(len(g.scope))])
		return
	}
	g.w(genAtoms[g.choose(len(genAtoms))])
}

// bind adds names to the scope for the duration of f.
func (g *exprGen) bind(names []string, f func()) {
	n := len(g.scope)
	g.scope = append(g.scope, names...)
	f()
	g.scope = g.scope[:n]
}

// bindings writes `name = expr;` entries (and inherits) for a let or a
// set; the names are in scope in the values when rec is set.
func (g *exprGen) bindings(rec bool) []string {
	n := 1 + g.choose(3)
	names := make([]string, n)
	for i := range names {
		names[i] = g.name()
	}
	body := func() {
		seen := map[string]bool{}
		for _, nm := range names {
			if seen[nm] {
				continue // a repeated name is an error; keep programs well-formed
			}
			seen[nm] = true
			switch g.choose(8) {
			case 1:
				if len(g.scope) > 0 && !rec {
					v := g.scope[g.choose(len(g.scope))]
					if !seen[v] || v == nm {
						seen[v] = true
						g.w("inherit ", v, "; ")
						continue
					}
				}
				g.w(nm, " = ")
				g.expr()
				g.w("; ")
			case 2:
				g.w("inherit (")
				g.expr()
				g.w(") ", nm, "; ")
			case 3:
				g.w(`"`, nm, `" = `)
				g.expr()
				g.w("; ")
			default:
				g.w(nm, " = ")
				g.expr()
				g.w("; ")
			}
		}
	}
	if rec {
		g.bind(names, body)
	} else {
		body()
	}
	return names
}

// expr writes one expression, parenthesised where it is not atomic.
func (g *exprGen) expr() {
	if g.depth >= maxGenDepth || g.i >= len(g.data) {
		g.leaf()
		return
	}
	g.depth++
	defer func() { g.depth-- }()
	switch g.choose(24) {
	case 0, 1:
		g.leaf()
	case 2: // let, recursive by nature
		g.w("(let ")
		names := g.bindings(true)
		g.w("in ")
		g.bind(names, g.expr)
		g.w(")")
	case 3: // set, rec set
		rec := g.choose(2) == 0
		if rec {
			g.w("rec ")
		}
		g.w("{ ")
		g.bindings(rec)
		if g.choose(4) == 0 {
			g.w("n.m = ")
			g.expr()
			g.w("; ")
		}
		g.w("}")
	case 4: // with
		g.w("(with ")
		g.expr()
		g.w("; ")
		g.bind(genNames[:4], g.expr)
		g.w(")")
	case 5: // lambda
		p := g.name()
		g.w("(", p, ": ")
		g.bind([]string{p}, g.expr)
		g.w(")")
	case 6: // lambda with formals
		a, b := g.name(), g.name()
		if a == b {
			b = a + "2"
		}
		g.w("({ ", a, ", ", b, " ? ")
		g.bind([]string{a, b}, g.expr)
		names := []string{a, b}
		g.w(", ... }")
		if g.choose(2) == 0 {
			g.w("@args")
			names = append(names, "args")
		}
		g.w(": ")
		g.bind(names, g.expr)
		g.w(")")
	case 7, 8: // call
		g.w("(")
		g.expr()
		g.w(" ")
		g.expr()
		g.w(")")
	case 9: // list
		g.w("[ ")
		for n := g.choose(4); n > 0; n-- {
			g.w("(")
			g.expr()
			g.w(") ")
		}
		g.w("]")
	case 10: // string with interpolation
		g.w(`"`)
		for n := g.choose(4); n > 0; n-- {
			switch g.choose(4) {
			case 0:
				g.w("${")
				g.expr()
				g.w("}")
			case 1:
				g.w(`\n\${x}`)
			default:
				g.w(g.name())
			}
		}
		g.w(`"`)
	case 11: // indented string
		g.w("''\n  ")
		for n := g.choose(3); n > 0; n-- {
			g.w("l ${")
			g.expr()
			g.w("} ''${x}\n  ")
		}
		g.w("''")
	case 12, 13: // binary operator
		g.w("(")
		g.expr()
		g.w(" ", genOps[g.choose(len(genOps))], " ")
		g.expr()
		g.w(")")
	case 14: // unary
		if g.choose(2) == 0 {
			g.w("(!")
		} else {
			g.w("(-")
		}
		g.expr()
		g.w(")")
	case 15: // if
		g.w("(if ")
		g.expr()
		g.w(" then ")
		g.expr()
		g.w(" else ")
		g.expr()
		g.w(")")
	case 16: // select, with or without default, has-attr
		g.w("(")
		g.expr()
		switch g.choose(3) {
		case 0:
			g.w(".", g.name())
		case 1:
			g.w(".", g.name(), " or (")
			g.expr()
			g.w(")")
		case 2:
			g.w(" ? ", g.name())
		}
		g.w(")")
	case 17, 18, 19: // builtins call
		bi := genBuiltins[g.choose(len(genBuiltins))]
		g.w("(builtins.", bi.name)
		for range bi.arity {
			g.w(" ")
			g.expr()
		}
		g.w(")")
	case 20: // assert
		g.w("(assert ")
		g.expr()
		g.w("; ")
		g.expr()
		g.w(")")
	case 21: // a recursive function applied
		f, x := g.name(), g.name()
		if f == x {
			x = f + "2"
		}
		g.w("(let ", f, " = ", x, ": ")
		g.bind([]string{f, x}, func() {
			g.w("if ", x, " <= 0 then ")
			g.expr()
			g.w(" else ")
			g.expr()
			g.w(" + ", f, " (", x, " - 1)")
		})
		g.w("; in ", f, " ")
		g.expr()
		g.w(")")
	case 22: // pipe through a lambda over a list
		g.w("(builtins.foldl' (acc: el: ")
		g.bind([]string{"acc", "el"}, g.expr)
		g.w(") ")
		g.expr()
		g.w(" (builtins.genList (i: ")
		g.bind([]string{"i"}, g.expr)
		g.w(") ")
		g.expr()
		g.w("))")
	case 23: // has-attr on a path, or a string attribute name
		g.w(`({ "${`)
		g.expr()
		g.w(`}" = `)
		g.expr()
		g.w("; })")
	}
}

// generate turns bytes into an expression.
func generate(data []byte) string {
	g := &exprGen{data: data}
	g.expr()
	return g.b.String()
}

// fuzzEvaluator is an evaluator like the CLI's, but pure, with traces,
// with a small max-call-depth so that runaway recursions end fast, and a
// memory limit so that a generated genList of millions of elements
// cannot take the machine down.
func fuzzEvaluator(stderr *strings.Builder) *eval.Eval {
	cfg := &builtins.Config{System: "x86_64-linux", CurrentTime: 1700000000, NixVersion: builtins.NixVersion, StoreDir: "/nix/store"}
	return eval.New(eval.Options{
		PureEval:     true,
		ShowTrace:    true,
		MaxCallDepth: 2000,
		MaxMemory:    1 << 30,
		Stderr:       stderr,
		Home:         "/home/fuzz",
		System:       "x86_64-linux",
		Builtins:     builtins.Builtins(cfg),
		Internal:     builtins.CorePkgs(),
	})
}

// fuzzBudget is how long one evaluation may run before it is
// interrupted, and fuzzGrace how long it then has to stop.
const (
	fuzzBudget = 300 * time.Millisecond
	fuzzGrace  = 10 * time.Second
)

type evalOutcome struct {
	out string
	err error
	e   *eval.Eval
}

// evalBounded evaluates src deeply and prints it, within the budget.
func evalBounded(t *testing.T, src string) (evalOutcome, bool) {
	var stderr strings.Builder
	e := fuzzEvaluator(&stderr)
	done := make(chan evalOutcome, 1)
	go func() {
		v, err := e.EvalString("fuzz.nix", src, "/fuzz")
		if err == nil {
			err = e.ForceDeep(&v, lang.NoPos)
		}
		var out string
		if err == nil {
			out, err = e.PrintValue(v, eval.PrintOptions{Force: true, TrackRepeated: true})
		}
		done <- evalOutcome{out, err, e}
	}()
	timer := time.NewTimer(fuzzBudget)
	defer timer.Stop()
	select {
	case r := <-done:
		return r, false
	case <-timer.C:
	}
	e.Interrupt()
	select {
	case r := <-done:
		return r, true
	case <-time.After(fuzzGrace):
		t.Fatalf("evaluation did not stop within %v of being interrupted: %s", fuzzGrace, src)
		return evalOutcome{}, true
	}
}

// FuzzEval evaluates generated expressions: evaluation must not panic or
// overflow the stack, must stop when interrupted, and must end in a
// value or an evaluation error (*eval.Error; the generator writes only
// well-formed programs, so no syntax errors) that renders with a
// message; infinite recursion, undefined variables and missing
// arguments must have a position, their own or one in their trace.
func FuzzEval(f *testing.F) {
	seeds := [][]byte{
		{}, {2, 0, 0, 0}, {21, 3, 4, 12, 0, 2, 0, 3, 1, 10},
		[]byte("let rec with lambdas and calls"), []byte("\x16\x05\x00\x01\x00\x02\x0c\x00\x01\x00"),
		{17, 3, 9, 2, 0, 1, 0, 1}, {3, 0, 1, 0, 2, 5, 1, 0, 0, 0, 16, 4, 0},
		{10, 3, 0, 12, 0, 0, 0, 0, 0, 1, 0}, {6, 1, 2, 0, 1, 1, 0, 7, 0, 0},
	}
	for i := range 64 {
		seeds = append(seeds, []byte(fmt.Sprintf("%d%c%c%c%c%c%c", i, i*7, i*13, i*31, i*3, i*5, i*11)))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := generate(data)
		r, interrupted := evalBounded(t, src)
		if r.err == nil {
			return
		}
		var ee *eval.Error
		if !errors.As(r.err, &ee) {
			t.Fatalf("error of type %T (%v) for\n%s", r.err, r.err, src)
		}
		rendered := r.e.Render(r.err)
		if !strings.HasPrefix(rendered, "error:") || ee.Msg == "" && ee.Kind != eval.ErrThrown && ee.Kind != eval.ErrAbort {
			t.Fatalf("rendered error %q for\n%s", rendered, src)
		}
		switch ee.Kind {
		case eval.ErrParse:
			t.Fatalf("generated expression does not parse: %s\n%s", rendered, src)
		case eval.ErrInterrupted:
			if !interrupted {
				t.Fatalf("interrupted without an interrupt: %s\n%s", rendered, src)
			}
			return
		case eval.ErrInfiniteRecursion, eval.ErrUndefinedVar, eval.ErrMissingArgument:
			// (Type errors, throws and failed assertions raised inside a
			// builtin's lazy application, and stack overflows met while
			// forcing from outside, have no position in Nix either.)
			if !ee.Pos.IsValid() && !tracePositioned(ee) {
				t.Fatalf("error without a position (%d): %s\n%s", ee.Kind, rendered, src)
			}
		}
	})
}

func tracePositioned(ee *eval.Error) bool {
	for _, fr := range ee.Trace {
		if fr.Pos.IsValid() {
			return true
		}
	}
	return false
}

// TestGenerate checks the generator itself: it makes expressions that
// parse, and the seeds cover the grammar's main forms.
func TestGenerate(t *testing.T) {
	forms := map[string]bool{}
	for i := range 2000 {
		data := []byte(strconv.Itoa(i*7919) + string(rune(i)) + strings.Repeat(string(rune(i%251)), i%13))
		src := generate(data)
		var stderr strings.Builder
		e := fuzzEvaluator(&stderr)
		if _, err := e.Parse("gen.nix", src, "/", nil); err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		for _, f := range []string{"let ", "rec {", "with ", ": ", "builtins.", "${", "if "} {
			if strings.Contains(src, f) {
				forms[f] = true
			}
		}
	}
	if len(forms) < 7 {
		t.Errorf("forms generated: %v", forms)
	}
}
