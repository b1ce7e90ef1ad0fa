package main

import (
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var gcTuning sync.Once

// BenchmarkWorkloads runs `nixl eval --strict` in process on each workload
// of testdata/bench/eval, the files testdata/bench/compare.sh runs against
// C++ Nix, with the collector paced as in the binary.
func BenchmarkWorkloads(b *testing.B) {
	gcTuning.Do(tuneGC)
	files, _ := filepath.Glob("../../testdata/bench/eval/*.nix")
	if len(files) == 0 {
		b.Fatal("no workloads")
	}
	b.Setenv("NIXL_STORE_DIR", "/nix/store")
	for _, file := range files {
		b.Run(strings.TrimSuffix(filepath.Base(file), ".nix"), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var stderr strings.Builder
				c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr}
				if rc := c.main([]string{"eval", "--strict", file}); rc != 0 {
					b.Fatalf("nixl eval --strict %s: exit %d\n%s", file, rc, stderr.String())
				}
			}
		})
	}
}
