package derivation

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGoldenCasesMatchLiveNix re-evaluates the golden cases with the
// installed Nix in a private, temporary store, to catch stale golden data.
func TestGoldenCasesMatchLiveNix(t *testing.T) {
	nixInstantiate, err := exec.LookPath("nix-instantiate")
	if err != nil {
		t.Skip("NOTICE: nix-instantiate not on PATH: golden derivations NOT re-checked against a live Nix (recorded golden files were still checked by the other tests)")
	}
	manifest := `builtins.mapAttrs (name: d: {
	  inherit (d) drvPath;
	  outputs = builtins.listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) (d.outputs or [ "out" ]));
	}) (import ./testdata/cases.nix)`
	for _, gs := range goldenStores {
		store := "local?root=" + t.TempDir() + "&store=" + string(gs.dir)
		out, err := exec.Command(nixInstantiate, "--store", store, "--read-write-mode", "--eval", "--strict", "--json", "-E", manifest).Output()
		if err != nil {
			var stderr []byte
			if exitErr, ok := err.(*exec.ExitError); ok {
				stderr = exitErr.Stderr
			}
			t.Fatalf("nix-instantiate: %v: %s", err, stderr)
		}
		var live map[string]goldenCase
		if err := json.Unmarshal(out, &live); err != nil {
			t.Fatal(err)
		}
		recorded := loadCases(t, gs.tag)
		if len(live) < 20 {
			t.Fatalf("%s: live Nix evaluated only %d cases", gs.tag, len(live))
		}
		for name, c := range live {
			if !reflect.DeepEqual(recorded[name], c) {
				t.Errorf("%s/%s: live Nix gives %+v, recorded %+v; rerun %s", gs.tag, name, c, recorded[name], filepath.Join("testdata", "record.sh"))
			}
		}
	}
}
