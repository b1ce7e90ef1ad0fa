package derivation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Paths below were computed by Nix 2.8 (nix-instantiate --eval) for the
// store directory /nix/store.

func TestComputeStoreText(t *testing.T) {
	s := NewComputeStore("/nix/store")
	p, err := s.AddText("greeting", "hello\n", nil)
	if err != nil || p != "/nix/store/ybf7by4xvcgjhwilsg87rqz9di79bify-greeting" {
		t.Fatalf("AddText = %q, %v", p, err)
	}
	plain, _ := s.AddText("plain", "x", nil)
	refers, err := s.AddText("refers", "see "+plain, []string{plain})
	if err != nil || refers != "/nix/store/wl61r3gknx1lmyzlldgvp367432081g9-refers" {
		t.Fatalf("AddText with a reference = %q, %v", refers, err)
	}
	// Computed paths are not in the store.
	if s.IsValidPath(refers) {
		t.Errorf("%s is valid", refers)
	}
	var invalid *InvalidPathError
	if _, err := s.QueryReferences(refers); !errors.As(err, &invalid) {
		t.Errorf("QueryReferences of a computed path: %v", err)
	}
	_, err = s.AddText("a b", "x", nil)
	want := "path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' is not a valid store path: name 'a b' contains illegal character ' '"
	if err == nil || err.Error() != want {
		t.Errorf("AddText with a bad name: %v, want %s", err, want)
	}
}

func TestComputeStorePathFilter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "sub/b"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := NewComputeStore("/nix/store")
	all, err := s.AddPath("tree", dir, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	some, err := s.AddPath("tree", dir, true, func(p, _ string) (bool, error) {
		seen = append(seen, strings.TrimPrefix(p, dir))
		return !strings.HasSuffix(p, "/sub"), nil
	})
	if err != nil || some == all {
		t.Errorf("filtered path %q (%v) should differ from %q", some, err, all)
	}
	if strings.Join(seen, ",") != "/a,/sub" {
		t.Errorf("filter saw %v; want the entries below the root, not those of a rejected directory", seen)
	}
	// A filter's error stops the walk and comes back as is.
	boom := errors.New("boom")
	calls := 0
	if _, err := s.AddPath("tree", dir, true, func(string, string) (bool, error) { calls++; return false, boom }); err != boom || calls != 1 {
		t.Errorf("filter error: %v after %d calls", err, calls)
	}
	if _, err := s.AddPath("tree", dir, false, nil); err == nil {
		t.Errorf("a directory added flat should fail")
	}
}

func TestComputeStoreDerivation(t *testing.T) {
	s := NewComputeStore("/nix/store")
	d := &Derivation{
		Name:     "hello",
		Outputs:  map[string]Output{"out": {}},
		Platform: "x86_64-linux",
		Builder:  "/bin/sh",
		Args:     []string{"-c", "echo hello > $out"},
		Env:      map[string]string{"builder": "/bin/sh", "name": "hello", "system": "x86_64-linux", "out": ""},
	}
	p, err := s.AddDerivation(d)
	if err != nil {
		t.Fatal(err)
	}
	if p != "/nix/store/r3f9l9f32qpzwmdgizjpbwn3ff2n6ny7-hello.drv" || d.Outputs["out"].Path != "/nix/store/fvchbymk0m4jvldpb9m5hy0bjy2lf30k-hello" || d.Env["out"] != d.Outputs["out"].Path {
		t.Errorf("AddDerivation = %s, outputs %v", p, d.Outputs)
	}
	// Its outputs are known; the .drv file itself was never written, so
	// it cannot be read, as in Nix's read-only mode.
	if got, err := s.DerivationOutputs(p); err != nil || len(got) != 1 || got[0].Name != "out" || got[0].Path != d.Outputs["out"].Path {
		t.Errorf("DerivationOutputs = %v, %v", got, err)
	}
	if _, err := s.ReadDerivation(p); err == nil || err.Error() != "path '"+p+"' is not valid" {
		t.Errorf("ReadDerivation of a computed derivation: %v, want not valid", err)
	}
	// A dependant loads it from memory.
	d2 := &Derivation{Name: "uses", Outputs: map[string]Output{"out": {}}, Platform: "x", Builder: "/bin/sh",
		InputDrvs: map[string][]string{p: {"out"}}, Env: map[string]string{"out": ""}}
	if _, err := s.AddDerivation(d2); err != nil {
		t.Fatal(err)
	}
	missing := "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-missing.drv"
	d3 := &Derivation{Name: "broken", Outputs: map[string]Output{"out": {}}, Platform: "x", Builder: "/bin/sh",
		InputDrvs: map[string][]string{missing: {"out"}}, Env: map[string]string{"out": ""}}
	if _, err := s.AddDerivation(d3); err == nil || err.Error() != "path '"+missing+"' is not valid" {
		t.Errorf("missing input: %v", err)
	}
}
