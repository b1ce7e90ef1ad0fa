package builtins

import "testing"

// The last-byte set is exact for simple patterns and never misses a byte
// a match can end with (TestRegexGolden checks the answers themselves).
func TestRegexLastBytes(t *testing.T) {
	for pat, want := range map[string]string{
		"word[0-9]*7":          "7",
		"(.*)\\.tar\\.(gz|xz)": "z", // gz and xz both end in z
		"a(b|c)?":              "abc",
		"ab*":                  "ab",
		"(a$)":                 "a",
		"x(y*)+":               "xy",
	} {
		p, err := reCompile(pat)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for b := range 256 {
			if p.last[b] {
				got += string(rune(b))
			}
		}
		if !sameBytes(got, want) {
			t.Errorf("last bytes of %q: %q, want %q", pat, got, want)
		}
	}
}

func sameBytes(a, b string) bool {
	var sa, sb [256]bool
	for i := range len(a) {
		sa[a[i]] = true
	}
	for i := range len(b) {
		sb[b[i]] = true
	}
	return sa == sb
}
