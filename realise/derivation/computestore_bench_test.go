package derivation

import (
	"strconv"
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
		d := &Derivation{
			Name:     "pkg-" + n,
			Platform: "x86_64-linux",
			Builder:  "/bin/sh",
			Args:     []string{"-c", "echo " + n + " > $out"},
			Env: map[string]string{"name": "pkg-" + n, "system": "x86_64-linux", "builder": "/bin/sh",
				"args": "-c echo " + n + " > $out", "version": "1." + n, "out": ""},
			InputDrvs: map[string][]string{},
			Outputs:   map[string]Output{"out": {}},
		}
		if i > 0 {
			a, h := i-1, i/2
			d.Env["deps"] = outPaths[a] + " " + outPaths[h]
			d.InputDrvs[drvPaths[a]] = []string{"out"}
			d.InputDrvs[drvPaths[h]] = []string{"out"}
		} else {
			d.Env["deps"] = ""
		}
		p, err := s.AddDerivation(d)
		if err != nil {
			b.Fatal(err)
		}
		drvPaths = append(drvPaths, p)
		outPaths = append(outPaths, d.Outputs["out"].Path)
		i++
	}
}
