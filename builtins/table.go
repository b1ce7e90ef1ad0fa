package builtins

import (
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// Func is the Go implementation of a builtin. Arguments arrive unforced.
type Func func(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error)

// builtin is one row of the table.
type builtin struct {
	name   string
	params []string // parameter names; len(params) is the arity
	doc    string
	fn     Func
	// global: also bound as a plain variable (map, toString, …), not
	// only as builtins.NAME and __NAME.
	global bool
	// constant, for entries that are values (true, storeDir…), computed
	// from the configuration.
	constant func(c *Config) eval.Value
	// noTrace: errors pass through without a "while calling the '…'
	// builtin" frame.
	noTrace bool
	// forcesFirst: a builtin whose first act is forcing its argument
	// firstArg (0 for the first) at no position, adding nothing to that
	// forcing's errors (eval.PrimOp.ForcesFirst).
	forcesFirst bool
	firstArg    int
}

// table is every builtin, grouped by theme in the files of this package.
func table() []builtin {
	var all []builtin
	for _, group := range [][]builtin{
		coreBuiltins,
		typeBuiltins,
		arithBuiltins,
		listBuiltins,
		attrBuiltins,
		stringBuiltins,
		fileBuiltins,
		derivationBuiltins,
		contextBuiltins,
		serialBuiltins,
		hashBuiltins,
		fetchBuiltins,
	} {
		all = append(all, group...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all
}

// Doc is the documentation of one builtin, for :doc and editor hover.
type Doc struct {
	Name   string
	Params []string
	Doc    string
}

// Docs lists the documentation of every builtin.
func Docs() []Doc {
	var out []Doc
	for _, b := range table() {
		out = append(out, Doc{Name: b.name, Params: b.params, Doc: b.doc})
	}
	return out
}

// Builtins returns the builtins set for an evaluator with configuration c.
func Builtins(c *Config) []eval.Builtin {
	var out []eval.Builtin
	for _, b := range table() {
		var v eval.Value
		if b.constant != nil {
			v = b.constant(c)
		} else {
			v = eval.PrimOpValue(&eval.PrimOp{Name: b.name, Arity: len(b.params), Params: b.params, Doc: b.doc, Fn: b.fn, NoTrace: b.noTrace, ForcesFirst: b.forcesFirst, FirstArg: b.firstArg})
		}
		out = append(out, eval.Builtin{Name: b.name, Value: v, Global: b.global})
	}
	return out
}

// Names lists the names the global scope binds, for parsing without an
// evaluator (nixl parse).
func Names() []string {
	var names []string
	for _, b := range table() {
		if b.global {
			names = append(names, b.name)
		} else {
			names = append(names, "__"+b.name)
		}
	}
	return append(names, "builtins")
}

// nth names an argument position the way Nix's messages do.
func nth(i int) string {
	return [...]string{"first", "second", "third", "fourth", "fifth"}[i]
}

// argCtx is the trace frame for a bad argument: "while evaluating the
// first argument passed to builtins.length". Builtins call it on every
// call though the text only matters on error, so texts are cached by the
// address of the (constant) name: a hit costs a few instructions.
func argCtx(i int, name string) string {
	if i >= len(argCtxCache) {
		return "while evaluating the " + nth(i) + " argument passed to builtins." + name
	}
	key := unsafe.StringData(name)
	slot := &argCtxCache[i][(uintptr(unsafe.Pointer(key))>>3)%uintptr(len(argCtxCache[i]))]
	if e := slot.Load(); e != nil && e.key == key && e.n == len(name) {
		return e.text
	}
	text := "while evaluating the " + nth(i) + " argument passed to builtins." + name
	slot.Store(&argCtxEntry{key: key, n: len(name), text: text})
	return text
}

type argCtxEntry struct {
	key  *byte
	n    int
	text string
}

var argCtxCache [3][256]atomic.Pointer[argCtxEntry]
