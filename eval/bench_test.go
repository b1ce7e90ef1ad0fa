package eval_test

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/eval/evaltest"
	"github.com/nixl-project/nixl/lang"
)

// BenchmarkWorkloads evaluates (strictly) each workload in
// testdata/bench/eval, the same files testdata/bench/compare.sh runs
// against C++ Nix. The collector is tuned as in the nixl binary.
func BenchmarkWorkloads(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	files, _ := filepath.Glob("../testdata/bench/eval/*.nix")
	if len(files) == 0 {
		b.Fatal("no workloads")
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		abs, _ := filepath.Abs(file)
		b.Run(strings.TrimSuffix(filepath.Base(file), ".nix"), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e, _ := evaltest.New(b, evaltest.Options{})
				v, err := e.EvalString(abs, string(src), filepath.Dir(abs))
				if err == nil {
					err = e.ForceDeep(&v, lang.NoPos)
				}
				if err != nil {
					b.Fatal(e.Render(err))
				}
			}
		})
	}
}

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
	defer debug.SetGCPercent(debug.SetGCPercent(400))
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
