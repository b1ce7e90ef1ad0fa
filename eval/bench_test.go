package eval_test

import (
	"runtime/debug"
	"testing"

	"github.com/nixl-project/nixl/eval/evaltest"
)

// BenchmarkCall measures a function call with an integer argument.
func BenchmarkCall(b *testing.B) {
	benchExpr(b, "let f = x: x + 1; go = n: if n == 0 then 0 else go (n - 1) + f 1; in go 100000", 100000)
}

// BenchmarkAttrLookup measures selecting attributes of a 1000-attribute set.
func BenchmarkAttrLookup(b *testing.B) {
	benchExpr(b, `let s = builtins.listToAttrs (builtins.genList (i: { name = "a${toString i}"; value = i; }) 1000);
	  go = n: if n == 0 then 0 else go (n - 1) + s.a500 + s.a7 + s.a999; in go 100000`, 100000)
}

// BenchmarkThunkForce measures creating and forcing lazy list elements.
func BenchmarkThunkForce(b *testing.B) {
	benchExpr(b, "builtins.foldl' (a: b: a + b) 0 (builtins.genList (i: i * 2) 100000)", 100000)
}

func benchExpr(b *testing.B, src string, ops int) {
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	e, _ := evaltest.New(b, evaltest.Options{})
	x, err := e.Parse("bench.nix", src, "/", nil)
	if err != nil {
		b.Fatal(e.Render(err))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := e.EvalExpr(x)
		if err == nil {
			err = e.Force(&v)
		}
		if err != nil {
			b.Fatal(e.Render(err))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*ops), "ns/op-inner")
}

// BenchmarkListToAttrsElements measures the module-system idiom: sets
// made with listToAttrs from generated { name; value; } elements (250
// sets of the same 400 names).
func BenchmarkListToAttrsElements(b *testing.B) {
	benchExpr(b, `builtins.foldl' (n: m: n + builtins.length (builtins.attrNames m)) 0 (builtins.genList (m:
	  builtins.listToAttrs (builtins.genList (o: { name = "opt${toString o}";
	    value = if builtins.bitAnd (m + o) 3 == 0 then { priority = m; } else { priority = 1000; }; }) 400)) 250)`, 100000)
}

// BenchmarkFoldScatteredDefinitions measures folding over values made
// far apart in the heap: each option's definitions come from 500
// different modules (the merge of modules.nix, smaller).
func BenchmarkFoldScatteredDefinitions(b *testing.B) {
	benchExpr(b, `let
	  modules = builtins.genList (m: builtins.listToAttrs (builtins.genList (o: { name = "o${toString o}";
	    value = if builtins.bitAnd (m + o) 3 == 0 then { p = m; } else { p = 1000; }; }) 200)) 500;
	  merged = builtins.zipAttrsWith (name: defs: builtins.foldl' (acc: d: if d.p < acc then d.p else acc) 1000 defs) modules;
	in builtins.foldl' (acc: name: acc + merged.${name}) 0 (builtins.attrNames merged)`, 100000)
}

// BenchmarkAttrNames measures listing the names of a 50,000-attribute set
// in lexicographic order (builtins.attrNames sorts by bytes).
func BenchmarkAttrNames(b *testing.B) {
	benchExpr(b, `let s = builtins.listToAttrs (builtins.genList (i: { name = "pkg${toString i}"; value = i; }) 50000);
	  in builtins.foldl' (n: k: n + builtins.length (builtins.attrNames (s // { ${k} = 1; }))) 0 [ "a" "b" "c" "d" "e" "f" "g" "h" ]`, 8*50000)
}

// BenchmarkMergeSpread measures big // small where the small set's names
// are spread over the big one (an overlay over a package set): 1,000
// names over 50,000, merged 30 times.
func BenchmarkMergeSpread(b *testing.B) {
	benchExpr(b, `let
	  s = builtins.listToAttrs (builtins.genList (i: { name = "p${toString i}"; value = i; }) 50000);
	  small = builtins.listToAttrs (builtins.genList (i: { name = "p${toString (i * 37)}"; value = 0; }) 1000);
	in builtins.foldl' (n: k: n + (s // small).p37) 0 (builtins.genList (k: k) 30)`, 30)
}
