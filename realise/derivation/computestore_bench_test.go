package derivation

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

// BenchmarkComputeStoreAdd is what evaluating one derivation of
// testdata/bench/eval/drvs.nix costs the store layer: a derivation with
// the attributes that workload gives, depending on the one before and on
// one halfway back, added to a ComputeStore (its output paths, its modulo
// hash and its .drv path).
func BenchmarkComputeStoreAdd(b *testing.B) {
	s := NewComputeStore(store.Dir("/nix/store"))
	var drvPaths, outPaths []string
	i := 0
	for b.Loop() {
		n := strconv.Itoa(i)
		deps := ""
		var inputs []InputDrv
		if i > 0 {
			a, h := i-1, i/2
			deps = outPaths[a] + " " + outPaths[h]
			inputs = []InputDrv{{drvPaths[a], []string{"out"}}}
			if h != a {
				inputs = append(inputs, InputDrv{drvPaths[h], []string{"out"}})
				slices.SortFunc(inputs, func(x, y InputDrv) int { return strings.Compare(x.Path, y.Path) })
			}
		}
		d := &Sorted{
			Name:      "pkg-" + n,
			Outputs:   []NamedOutput{{Name: "out"}},
			InputDrvs: inputs,
			Platform:  "x86_64-linux",
			Builder:   "/bin/sh",
			Args:      []string{"-c", "echo " + n + " > $out"},
			Env: []EnvVar{{"args", "-c echo " + n + " > $out"}, {"builder", "/bin/sh"}, {"deps", deps},
				{"name", "pkg-" + n}, {"out", ""}, {"system", "x86_64-linux"}, {"version", "1." + n}},
		}
		p, err := s.AddSorted(d)
		if err != nil {
			b.Fatal(err)
		}
		drvPaths = append(drvPaths, p)
		outPaths = append(outPaths, d.Outputs[0].Path)
		i++
	}
}
