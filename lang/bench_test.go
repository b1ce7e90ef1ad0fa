package lang

import (
	"os"
	"testing"
)

func BenchmarkParseBig(b *testing.B) {
	src, err := os.ReadFile("/tmp/big.nix")
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(src)))
	s := string(src)
	for i := 0; i < b.N; i++ {
		fset := NewFileSet()
		if _, _, err := Parse(fset, "big.nix", s, Config{BaseDir: "/tmp"}); err != nil {
			b.Fatal(err)
		}
	}
}
