package store

import (
	"github.com/nixl-project/nixl/nixhash"
	"testing"
)

func TestContentAddressMethodAlgorithm(t *testing.T) {
	tests := []struct {
		in     string
		method ContentAddressMethod
		algo   nixhash.Algorithm
	}{
		{"sha256", FlatMethod, nixhash.SHA256},
		{"r:sha1", RecursiveMethod, nixhash.SHA1},
		{"text:sha256", TextMethod, nixhash.SHA256},
		{"r:md5", RecursiveMethod, nixhash.MD5},
	}
	for _, tt := range tests {
		m, a, err := ParseMethodAlgorithm(tt.in)
		if err != nil || m != tt.method || a != tt.algo {
			t.Errorf("ParseMethodAlgorithm(%q) = %v, %v, %v", tt.in, m, a, err)
		}
		if back := FormatMethodAlgorithm(m, a); back != tt.in {
			t.Errorf("FormatMethodAlgorithm round trip of %q gave %q", tt.in, back)
		}
	}
	for _, bad := range []string{"", "r:", "x:sha256", "r:r:sha256", "text:"} {
		if _, _, err := ParseMethodAlgorithm(bad); err == nil {
			t.Errorf("ParseMethodAlgorithm(%q) succeeded", bad)
		}
	}
}
