package store

import (
	"testing"

	"github.com/nixl-project/nixl/nixhash"
)

// BenchmarkStorePath measures computing a store path from a content hash
// (the fingerprint's SHA-256, XOR-folding, nixbase32), as every source
// path and derivation output does.
func BenchmarkStorePath(b *testing.B) {
	d := Dir("/nix/store")
	h := nixhash.SumString(nixhash.SHA256, "some contents")
	for b.Loop() {
		if _, err := d.MakeStorePath("source", h, "hello-1.0"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTextPath measures a text path with references (toFile, .drv
// files), contents hashing included.
func BenchmarkTextPath(b *testing.B) {
	d := Dir("/nix/store")
	refs := []StorePath{}
	for _, p := range []string{
		"/nix/store/7n5kcwmb6vbf5bxrkpkahxyhlbxlqxs4-bash-5.2",
		"/nix/store/0c7c96gikmzv87i7lv3vq5s1cmfjd6zf-stdenv-linux",
	} {
		sp, err := d.ParsePath(p)
		if err != nil {
			b.Fatal(err)
		}
		refs = append(refs, sp)
	}
	contents := []byte("Derive([(\"out\",\"/nix/store/…\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[],[])")
	for b.Loop() {
		if _, err := d.ComputeTextPath("hello.drv", contents, refs); err != nil {
			b.Fatal(err)
		}
	}
}
