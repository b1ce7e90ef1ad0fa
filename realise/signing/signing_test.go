package signing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
)

func TestKeysRoundTrip(t *testing.T) {
	k, err := GenerateKey("example.org-1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sec, pub := filepath.Join(dir, "sk"), filepath.Join(dir, "pk")
	if err := k.WriteFiles(sec, pub); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(sec); info.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode %v", info.Mode())
	}
	data, _ := os.ReadFile(sec)
	if strings.HasSuffix(string(data), "\n") || !strings.HasPrefix(string(data), "example.org-1:") {
		t.Errorf("secret key file %q", data)
	}
	// A trailing newline (an edited file) is accepted.
	os.WriteFile(sec, append(data, '\n'), 0o600)
	k2, err := ReadSecretKeyFile(sec)
	if err != nil || k2.String() != k.String() {
		t.Fatalf("%v %v", k2, err)
	}
	p, err := ReadPublicKeyFile(pub)
	if err != nil || p.String() != k.PublicKey().String() {
		t.Fatalf("%v %v", p, err)
	}
	sig := k.Sign("message")
	if !strings.HasPrefix(sig, "example.org-1:") || !p.Verify("message", sig) || p.Verify("other", sig) {
		t.Error("sign/verify")
	}
	// Ed25519 is deterministic, as libsodium's, so Nix gets the same.
	if k2.Sign("message") != sig {
		t.Error("signatures differ")
	}
	other, _ := GenerateKey("example.org-1")
	ring := NewKeyring(other.PublicKey())
	if ring.Verify("message", sig) || ring.CountValid("message", []string{sig}) != 0 {
		t.Error("a signature by another key with the same name verified")
	}
	ring, err = ParseKeyring(other.PublicKey().String()+"  "+p.String(), "")
	if err == nil && (ring.CountValid("message", []string{sig, "bogus", "x:y"}) != 1) {
		t.Error("CountValid")
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "name", ":AAAA", "name:", "name:not base64!", "name:AAAA"} {
		if _, err := ParseSecretKey(s); err == nil {
			t.Errorf("secret key %q accepted", s)
		}
		if _, err := ParsePublicKey(s); err == nil {
			t.Errorf("public key %q accepted", s)
		}
	}
	if _, err := GenerateKey("a:b"); err == nil {
		t.Error("key name with a colon accepted")
	}
	// A secret key whose public half does not match its seed.
	k, _ := GenerateKey("x")
	bad := append([]byte(nil), k.Key...)
	bad[40] ^= 1
	if _, err := ParseSecretKey((&SecretKey{Name: "x", Key: bad}).String()); err == nil {
		t.Error("inconsistent secret key accepted")
	}
}

func TestFingerprint(t *testing.T) {
	h, _ := nixhash.ParsePrefixed("sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5")
	fp, err := Fingerprint("/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello", h, 226488, []string{
		"/nix/store/yaz6vivpkgsh8k1fgc2d8dsrbzkfc5g3-glibc", "/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello",
	})
	want := "1;/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello;sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5;226488;/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello,/nix/store/yaz6vivpkgsh8k1fgc2d8dsrbzkfc5g3-glibc"
	if err != nil || fp != want {
		t.Errorf("%q %v", fp, err)
	}
	if _, err := Fingerprint("/nix/store/x", h, 0, nil); err == nil {
		t.Error("unknown NAR size accepted")
	}
	if _, err := Fingerprint("/nix/store/x", nixhash.Sum(nixhash.SHA1, nil), 1, nil); err == nil {
		t.Error("SHA-1 NAR hash accepted")
	}
}
