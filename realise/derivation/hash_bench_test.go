package derivation

import (
	"fmt"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

// BenchmarkDrvPath measures what evaluating a derivation costs the store
// layer: the output paths of an input-addressed derivation (its hash
// modulo, with the hashes of its inputs cached) and its .drv path (the
// ATerm text and its text-path hash). The chain has one new derivation
// per iteration, each depending on the one before.
func BenchmarkDrvPath(b *testing.B) {
	dir := store.Dir("/nix/store")
	drvs := map[string]*Derivation{}
	h := NewHasher(dir, func(p string) (*Derivation, error) {
		if d, ok := drvs[p]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("no %s", p)
	})
	prev := ""
	i := 0
	for b.Loop() {
		d := &Derivation{
			Name:     fmt.Sprintf("pkg-%d", i),
			Platform: "x86_64-linux",
			Builder:  "/bin/sh",
			Args:     []string{"-c", "echo hi > $out"},
			Env:      map[string]string{"name": fmt.Sprintf("pkg-%d", i), "system": "x86_64-linux", "builder": "/bin/sh", "version": "1.0"},
		}
		if prev != "" {
			d.InputDrvs = map[string][]string{prev: {"out"}}
			d.Env["dep"] = drvs[prev].Outputs["out"].Path
		}
		if err := h.SetInputAddressedOutputs(d, []string{"out"}); err != nil {
			b.Fatal(err)
		}
		p, err := d.ComputePath(dir)
		if err != nil {
			b.Fatal(err)
		}
		drvs[p] = d
		prev = p
		i++
	}
}
