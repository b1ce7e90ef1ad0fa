package nixhash

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestNixBase32KnownVectors(t *testing.T) {
	// Values from `nix hash to-base32` (see testdata/hashes.json for many
	// more, checked in TestParseHashMatchesNix).
	tests := []struct{ hex, nix32 string }{
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", "143xibwh31h9bvxzalr0sjvbbvpa6ffs"},
		{"", ""},
	}
	for _, tt := range tests {
		digest := mustHex(t, tt.hex)
		if got := EncodeBase32(digest); got != tt.nix32 {
			t.Errorf("EncodeNixBase32(%s) = %s, want %s", tt.hex, got, tt.nix32)
		}
		back, err := DecodeBase32(tt.nix32)
		if err != nil || !bytes.Equal(back, digest) {
			t.Errorf("DecodeNixBase32(%s) = %x, %v; want %s", tt.nix32, back, err, tt.hex)
		}
	}
}

func TestNixBase32RoundTripsEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 100; n++ {
		for range 20 {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(rng.UintN(256))
			}
			enc := EncodeBase32(data)
			if len(enc) != Base32EncodedLen(n) {
				t.Fatalf("length %d: encoded length %d, want %d", n, len(enc), Base32EncodedLen(n))
			}
			dec, err := DecodeBase32(enc)
			if err != nil || !bytes.Equal(dec, data) {
				t.Fatalf("length %d: round trip of %x gave %x, %v", n, data, dec, err)
			}
		}
	}
}

func TestDecodeNixBase32Rejects(t *testing.T) {
	valid := "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
	tests := map[string]struct{ input, wantErr string }{
		"letter e not in alphabet":  {valid[:51] + "e", "invalid character 'e'"},
		"uppercase":                 {strings.ToUpper(valid), "invalid character"},
		"length of no byte count":   {valid[:51], "length 51"},
		"single character":          {"0", "length 1"},
		"bits beyond the last byte": {"z" + valid[1:], "encodes more than 32 bytes"},
		"non-ASCII byte":            {valid[:50] + "é", "invalid character"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeBase32(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("DecodeNixBase32(%q) error = %v, want one containing %q", tt.input, err, tt.wantErr)
			}
		})
	}
}

// BenchmarkAppendBase32StorePathHash encodes a store path's 20-byte hash.
func BenchmarkAppendBase32StorePathHash(b *testing.B) {
	digest := bytes.Repeat([]byte{0xa5, 0x3c}, 10)
	buf := make([]byte, 0, 64)
	for range b.N {
		buf = AppendBase32(buf[:0], digest)
	}
}
