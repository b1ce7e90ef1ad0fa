package store

import (
	"strings"
	"testing"
)

const sampleHashPart = "vxjiwkjkn7x4079qvh1jkl5pn05j2aw0"

func TestStorePathNameValidation(t *testing.T) {
	valid := []string{"foo", "foo-1.0", "A+b=c?d_e.f-9", "x", "a..b", "foo.drv", strings.Repeat("n", MaxStorePathNameLen)}
	for _, name := range valid {
		if err := ValidateStorePathName(name); err != nil {
			t.Errorf("ValidateStorePathName(%q): %v", name, err)
		}
	}
	invalid := map[string]string{
		"":        "empty name",
		".":       "starting with '.'",
		"..":      "starting with '.'",
		".hidden": "starting with '.'",
		"a b":     "illegal character ' '",
		"a/b":     "illegal character '/'",
		"héllo":   "illegal character",
		"a:b":     "illegal character ':'",
		"a\x00":   "illegal character",
		strings.Repeat("n", MaxStorePathNameLen+1): "longer than 211",
	}
	for name, wantErr := range invalid {
		err := ValidateStorePathName(name)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ValidateStorePathName(%q) error = %v, want one containing %q", name, err, wantErr)
		}
	}
}

func TestParseStorePathBase(t *testing.T) {
	p, err := ParseStorePathBase(sampleHashPart + "-foo.drv")
	if err != nil {
		t.Fatal(err)
	}
	if p.HashPart() != sampleHashPart || p.Name() != "foo.drv" || !p.IsDerivation() || p.String() != sampleHashPart+"-foo.drv" {
		t.Errorf("accessors wrong for %v: %q %q %v", p, p.HashPart(), p.Name(), p.IsDerivation())
	}
	if q, err := NewStorePath(sampleHashPart, "foo.drv"); err != nil || q != p {
		t.Errorf("NewStorePath = %v, %v; want %v", q, err, p)
	}
	bad := map[string]string{
		"short":                           "too short",
		sampleHashPart:                    "too short",
		sampleHashPart + "-":              "empty name",
		sampleHashPart + "_foo":           "lacks the '-'",
		"e" + sampleHashPart[1:] + "-foo": "illegal base-32 character 'e'",
		"o" + sampleHashPart[1:] + "-foo": "illegal base-32 character 'o'",
		"u" + sampleHashPart[1:] + "-foo": "illegal base-32 character 'u'",
		"t" + sampleHashPart[1:] + "-foo": "illegal base-32 character 't'",
		"V" + sampleHashPart[1:] + "-foo": "illegal base-32 character 'V'",
		sampleHashPart + "-..":            "starting with '.'",
		sampleHashPart + "-a b":           "illegal character",
	}
	for base, wantErr := range bad {
		_, err := ParseStorePathBase(base)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseStorePathBase(%q) error = %v, want one containing %q", base, err, wantErr)
		}
	}
	var zero StorePath
	if !zero.IsZero() || zero.HashPart() != "" || zero.Name() != "" || p.IsZero() {
		t.Error("IsZero and accessors of the zero StorePath are wrong")
	}
}

func TestDirParsePath(t *testing.T) {
	for _, dir := range []Dir{DefaultDir, "/tmp/nixl-test-store"} {
		base := sampleHashPart + "-foo"
		full := string(dir) + "/" + base
		p, err := dir.ParsePath(full)
		if err != nil || p.String() != base || dir.Path(p) != full {
			t.Errorf("%s: ParsePath(%q) = %v, %v", dir, full, p, err)
		}
		if _, err := dir.ParseExactPath(full); err != nil {
			t.Errorf("%s: ParseExactPath(%q): %v", dir, full, err)
		}
		for _, sloppy := range []string{full + "/", string(dir) + "//" + base, string(dir) + "/./" + base} {
			if _, err := dir.ParsePath(sloppy); err != nil {
				t.Errorf("%s: ParsePath(%q): %v", dir, sloppy, err)
			}
			if _, err := dir.ParseExactPath(sloppy); err == nil || !strings.Contains(err.Error(), "canonical") {
				t.Errorf("%s: ParseExactPath(%q) error = %v", dir, sloppy, err)
			}
		}
		for _, outside := range []string{"/elsewhere/" + base, full + "/bin/sh", string(dir), base, "/" + base} {
			if _, err := dir.ParsePath(outside); err == nil || !strings.Contains(err.Error(), "not in the Nix store") {
				t.Errorf("%s: ParsePath(%q) error = %v", dir, outside, err)
			}
		}
	}
}

func TestDirValidate(t *testing.T) {
	for _, good := range []Dir{"/nix/store", "/tmp/nixl-test-store", "/s"} {
		if err := good.Validate(); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []Dir{"", "/", "nix/store", "/nix/store/", "/nix//store", "/nix/./store"} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%q validated", bad)
		}
	}
}
