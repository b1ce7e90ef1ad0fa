package cache

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/signing"
)

// TestStoreSubstituter checks what the realiser sees: which paths can be
// substituted, and why others cannot.
func TestStoreSubstituter(t *testing.T) {
	key, _ := signing.GenerateKey("realiser-1")
	other, _ := signing.GenerateKey("other-1")
	ts := newTestStore(t)
	a := ts.open(t)
	p := addInputAddressed(t, a, "pkg", "contents")
	c, err := Open("file://"+filepath.Join(t.TempDir(), "cache"), nil)
	must(t, err)
	_, err = CopyToCache(ctx, a, c, []string{p}, CopyOptions{Compression: "xz", SecretKey: key})
	must(t, err)
	b := ts.open(t)
	absent := b.Dir() + "/00000000000000000000000000000000-absent"

	sub := (&Substituter{Caches: []*Cache{c}, TrustedKeys: signing.NewKeyring(key.PublicKey())}).ForStore(b)
	found, problems, err := sub.Substitutable(ctx, []string{p, absent})
	must(t, err)
	if !found[p] || found[absent] || len(found) != 1 || len(problems) != 0 {
		t.Errorf("found %v, problems %v", found, problems)
	}
	must(t, sub.Substitute(ctx, []string{p}))
	if !isValid(t, b, p) {
		t.Error("not substituted")
	}

	// Signed by a key that is not trusted: not found, and said why.
	b = ts.open(t)
	sub = (&Substituter{Caches: []*Cache{c}, TrustedKeys: signing.NewKeyring(other.PublicKey())}).ForStore(b)
	found, problems, err = sub.Substitutable(ctx, []string{p})
	must(t, err)
	if len(found) != 0 || len(problems) != 1 || !strings.Contains(problems[0].Error(), "does not have a valid signature for path '"+p+"'") {
		t.Errorf("untrusted: found %v, problems %v", found, problems)
	}
	// Each problem is told once.
	if _, problems, _ := sub.Substitutable(ctx, []string{p}); len(problems) != 0 {
		t.Errorf("the same problem again: %v", problems)
	}
	if err := sub.Substitute(ctx, []string{p}); err == nil || isValid(t, b, p) {
		t.Errorf("substituted an untrusted path: %v", err)
	}

	// A cache that is not one: a problem, nothing found.
	bad, err := Open("file://"+t.TempDir(), nil)
	must(t, err)
	sub = (&Substituter{Caches: []*Cache{bad}}).ForStore(b)
	found, problems, err = sub.Substitutable(ctx, []string{p})
	must(t, err)
	if len(found) != 0 || len(problems) != 1 || !strings.Contains(problems[0].Error(), "does not appear to be a binary cache") {
		t.Errorf("not a cache: found %v, problems %v", found, problems)
	}
	// No caches, no paths: nothing to do.
	if found, problems, err := (&Substituter{}).ForStore(b).Substitutable(ctx, []string{p}); err != nil || len(found) != 0 || problems != nil {
		t.Errorf("no caches: %v %v %v", found, problems, err)
	}
}
