package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"path/filepath"
	"testing"
)

// BenchmarkNARHash measures SHA-256 hashing of a large file through the NAR
// serialiser; the MB/s figure is file bytes per second.
func BenchmarkNARHash(b *testing.B) {
	const size = 256 << 20
	path := filepath.Join(b.TempDir(), "big")
	writeBigFile(b, path, size)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := HashPath(nixhash.SHA256, path, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNARHashSmallFiles measures per-file overhead on a source-like tree.
func BenchmarkNARHashSmallFiles(b *testing.B) {
	tree := buildTestTree(b, b.TempDir())
	for b.Loop() {
		if _, _, err := HashPath(nixhash.SHA256, tree, nil); err != nil {
			b.Fatal(err)
		}
	}
}
