package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/store"
)

// oddNames are store path names that must never be accepted: they would
// name something other than one entry of the store directory, hide it,
// or put characters in file names that Nix does not allow.
var oddNames = []string{"..", "../x", "../../etc/passwd", "x/../../y", ".hidden", ".", "a b", "a\nb", "a\x00b", "a%b", "a$b", "é", "a\\b"}

// TestOddStorePathsRejected feeds store paths with odd names to every
// parser of store paths that reads outside input: store paths given on
// the command line, .drv files, narinfo files of binary caches and
// nix-store --export streams. Each refuses them, and an import registers
// and creates nothing.
func TestOddStorePathsRejected(t *testing.T) {
	const hashPart = "00000000000000000000000000000000"
	dir := store.Dir("/nix/store")
	for _, name := range oddNames {
		if _, err := store.ParseStorePathBase(hashPart + "-" + name); err == nil {
			t.Errorf("ParseStorePathBase accepted the name %q", name)
		}
		if p, err := dir.ParsePath(string(dir) + "/" + hashPart + "-" + name); err == nil {
			t.Errorf("ParsePath accepted the name %q as %s", name, p)
		}
		if err := store.ValidateStorePathName(name); err == nil {
			t.Errorf("ValidateStorePathName accepted %q", name)
		}
	}
	// A .drv whose output, input or source path has an odd name.
	good := `Derive([("out","/nix/store/` + hashPart + `-ok","","")],[],[],"x86_64-linux","/bin/sh",[],[("out","/nix/store/` + hashPart + `-ok")])`
	if _, err := derivation.Parse(dir, "ok", []byte(good)); err != nil {
		t.Fatalf("the good derivation: %v", err)
	}
	for _, name := range oddNames {
		odd := string(dir) + "/" + hashPart + "-" + name
		for what, text := range map[string]string{
			"output": strings.Replace(good, `("out","/nix/store/`+hashPart+`-ok","","")`, `("out","`+odd+`","","")`, 1),
			"source": strings.Replace(good, `[],[],"x86`, `[],["`+odd+`"],"x86`, 1),
			"input":  strings.Replace(good, `[],[],"x86`, `[("`+odd+`.drv",["out"])],[],"x86`, 1),
		} {
			if _, err := derivation.Parse(dir, "ok", []byte(text)); err == nil {
				t.Errorf("a derivation with the %s path %q was accepted", what, odd)
			}
		}
	}
	// A narinfo whose StorePath, References or Deriver has an odd name.
	ni := "StorePath: /nix/store/" + hashPart + "-ok\nURL: nar/x.nar\nCompression: none\nNarHash: sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5\nNarSize: 8\n"
	if _, err := ParseNarInfo(dir, ni, "test"); err != nil {
		t.Fatalf("the good narinfo: %v", err)
	}
	for _, name := range oddNames {
		if strings.ContainsAny(name, "\n\x00") {
			continue // not one line of a narinfo
		}
		for what, text := range map[string]string{
			"StorePath":  strings.Replace(ni, hashPart+"-ok", hashPart+"-"+name, 1),
			"References": ni + "References: " + hashPart + "-" + name + "\n",
			"Deriver":    ni + "Deriver: " + hashPart + "-" + name + ".drv\n",
		} {
			if _, err := ParseNarInfo(dir, text, "test"); err == nil {
				t.Errorf("a narinfo with the %s %q was accepted", what, name)
			}
		}
	}
	// An export stream whose path is rewritten to climb out of the store
	// (same length, so the stream's framing stays intact).
	ts := newTestStore(t)
	a := ts.open(t)
	p, err := a.AddText("evil-name", "contents\n", nil)
	must(t, err)
	var stream bytes.Buffer
	must(t, Export(&stream, a, []string{p}))
	must(t, a.Close())
	for _, odd := range []string{"../../tmp", "../evilnam", ".evil-nam", "evil/name"} {
		if len(odd) != len("evil-name") {
			odd = odd[:min(len(odd), len("evil-name"))] + strings.Repeat("x", max(0, len("evil-name")-len(odd)))
		}
		data := bytes.ReplaceAll(stream.Bytes(), []byte("-evil-name"), []byte("-"+odd))
		b := ts.open(t)
		if _, err := Import(bytes.NewReader(data), b); err == nil {
			t.Errorf("an export of '%s' was imported", odd)
		}
		if valid, _ := b.QueryAllValidPaths(); len(valid) != 0 {
			t.Errorf("registered %v", valid)
		}
		if e := storeEntries(t, b); len(e) != 0 {
			t.Errorf("left %v in the store", e)
		}
		if _, err := os.Lstat(filepath.Join(ts.base, "tmp")); err == nil {
			t.Errorf("the import created %s", filepath.Join(ts.base, "tmp"))
		}
		stagingEmpty(t, b)
	}
}
