package eval_test

import (
	"testing"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/eval/evaltest"
)

// Integer arithmetic and builtins.NAME are as lazy as any other
// expression: printed without forcing, an attribute, list element or
// argument holding x - 1 or builtins.head is still unevaluated, as
// nix-instantiate --eval prints it (<CODE>). Only where the value is
// consumed at once (toString, builtins that force their argument first)
// is it computed without a thunk.
func TestLazyPositionsStayLazy(t *testing.T) {
	e, _ := evaltest.New(t, evaltest.Options{})
	for src, want := range map[string]string{
		`let x = 2; in { a = x - 1; b = x * 3; c = x / 2; d = x + 1; }`: `{ a = <CODE>; b = <CODE>; c = <CODE>; d = <CODE>; }`,
		`[ (1 - 1) (2 * 2) ]`:                     `[ <CODE> <CODE> ]`,
		`(x: [ x ]) (3 - 1)`:                      `[ <CODE> ]`,
		`let f = x: { inherit x; }; in f (5 * 2)`: `{ x = <CODE>; }`,
		`let x = 2; in [ (toString (x - 1)) ]`:    `[ <CODE> ]`,
		// A function that forces its argument first gets it computed at
		// once; one that does not, a thunk.
		`let x = 2; in (n: if n == 0 then [ n ] else [ n ]) (x - 1)`: `[ 1 ]`,
		`let x = 2; in (n: if true then [ n ] else n) (x - 1)`:       `[ <CODE> ]`,
		`let x = 2; in (n: if 0 == n then [ n ] else [ n ]) (x + 1)`: `[ 3 ]`,
		// builtins.NAME is compiled to the primop, and still a thunk here.
		`{ a = builtins.head; }`: `{ a = <CODE>; }`,
		`[ builtins.head ]`:      `[ <CODE> ]`,
		// So is a function until something forces it.
		`{ f = x: x; g = { a }: a; }`:                  `{ f = <CODE>; g = <CODE>; }`,
		`[ (x: x) ]`:                                   `[ <CODE> ]`,
		`let f = x: x; in { inherit f; g = f; }`:       `{ f = <CODE>; g = <CODE>; }`,
		`let s = { f = x: x; }; in builtins.seq s.f s`: `{ f = <LAMBDA>; }`,
		`x: x`:          `<LAMBDA>`,
		`(x: x) (y: y)`: `<LAMBDA>`,
	} {
		v, err := e.EvalString("«lazy»", src, "/")
		if err == nil {
			err = e.Force(&v) // as nix-instantiate --eval does
		}
		if err != nil {
			t.Fatal(e.Render(err))
		}
		got, err := e.PrintValue(v, eval.PrintOptions{Ambiguous: true})
		if err != nil {
			t.Fatal(e.Render(err))
		}
		if got != want {
			t.Errorf("%s printed %s, want %s", src, got, want)
		}
	}
}
