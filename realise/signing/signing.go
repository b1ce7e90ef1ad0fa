package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
)

// SecretKey is a named Ed25519 secret key.
type SecretKey struct {
	Name string
	Key  ed25519.PrivateKey
}

// PublicKey is a named Ed25519 public key.
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

// GenerateKey makes a new key pair named name, as
// nix-store --generate-binary-cache-key does.
func GenerateKey(name string) (*SecretKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &SecretKey{Name: name, Key: priv}, nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("a key name must not be empty")
	}
	if strings.ContainsAny(name, ": \t\r\n") {
		return fmt.Errorf("invalid key name '%s': it must not contain ':' or white space", name)
	}
	return nil
}

// splitKey splits "NAME:BASE64" and decodes the key bytes. White space
// around the text (a trailing newline in a key file) is ignored, as is a
// newline inside the base64, which Nix's decoder skips too.
func splitKey(s, what string) (string, []byte, error) {
	s = strings.TrimSpace(s)
	name, data, ok := strings.Cut(s, ":")
	if !ok || name == "" || data == "" {
		return "", nil, fmt.Errorf("%s is corrupt: it is not of the form NAME:BASE64", what)
	}
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(data, "\n", ""))
	if err != nil {
		return "", nil, fmt.Errorf("%s '%s' is corrupt: %v", what, name, err)
	}
	return name, b, nil
}

// ParseSecretKey parses a secret key "NAME:BASE64" (the contents of a
// secret key file).
func ParseSecretKey(s string) (*SecretKey, error) {
	name, b, err := splitKey(s, "secret key")
	if err != nil {
		return nil, err
	}
	if len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("secret key '%s' is not valid: %d bytes instead of %d", name, len(b), ed25519.PrivateKeySize)
	}
	key := ed25519.PrivateKey(b)
	// libsodium keys carry their public half; it must match the seed.
	if !key.Public().(ed25519.PublicKey).Equal(ed25519.NewKeyFromSeed(key.Seed()).Public()) {
		return nil, fmt.Errorf("secret key '%s' is not valid: its public half does not match", name)
	}
	return &SecretKey{Name: name, Key: key}, nil
}

// ReadSecretKeyFile reads a secret key file, as written by
// nix-store --generate-binary-cache-key or WriteFile.
func ReadSecretKeyFile(path string) (*SecretKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseSecretKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey parses a public key "NAME:BASE64", as found in
// trusted-public-keys.
func ParsePublicKey(s string) (*PublicKey, error) {
	name, b, err := splitKey(s, "public key")
	if err != nil {
		return nil, err
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key '%s' is not valid: %d bytes instead of %d", name, len(b), ed25519.PublicKeySize)
	}
	return &PublicKey{Name: name, Key: ed25519.PublicKey(b)}, nil
}

// ReadPublicKeyFile reads a public key file.
func ReadPublicKeyFile(path string) (*PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// String is "NAME:BASE64", the secret key file's contents.
func (k *SecretKey) String() string {
	return k.Name + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// PublicKey returns the public half of k, under the same name.
func (k *SecretKey) PublicKey() *PublicKey {
	return &PublicKey{Name: k.Name, Key: k.Key.Public().(ed25519.PublicKey)}
}

// Sign returns the detached signature of msg, "NAME:BASE64".
func (k *SecretKey) Sign(msg string) string {
	return k.Name + ":" + base64.StdEncoding.EncodeToString(ed25519.Sign(k.Key, []byte(msg)))
}

// WriteFiles writes the secret key to secretPath (mode 0600) and the
// public key to publicPath (mode 0644), without trailing newlines, as
// nix-store --generate-binary-cache-key does. Existing files are replaced.
func (k *SecretKey) WriteFiles(secretPath, publicPath string) error {
	if err := writeFile(secretPath, k.String(), 0o600); err != nil {
		return err
	}
	return writeFile(publicPath, k.PublicKey().String(), 0o644)
}

func writeFile(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	return errors.Join(err, f.Close())
}

// String is "NAME:BASE64", as in trusted-public-keys.
func (k *PublicKey) String() string {
	return k.Name + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// Verify reports whether sig ("NAME:BASE64") is a signature of msg by k:
// the names must match too.
func (k *PublicKey) Verify(msg, sig string) bool {
	name, data, ok := strings.Cut(sig, ":")
	if !ok || name != k.Name {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(k.Key, []byte(msg), b)
}

// Keyring is a set of trusted public keys by name, as Nix's
// trusted-public-keys setting.
type Keyring map[string]*PublicKey

// NewKeyring returns a keyring holding keys; a later key replaces an
// earlier one of the same name.
func NewKeyring(keys ...*PublicKey) Keyring {
	r := Keyring{}
	for _, k := range keys {
		r[k.Name] = k
	}
	return r
}

// ParseKeyring parses public keys ("NAME:BASE64" each; several may be
// given in one string separated by white space, as in nix.conf).
func ParseKeyring(keys ...string) (Keyring, error) {
	r := Keyring{}
	for _, s := range keys {
		for _, f := range strings.Fields(s) {
			k, err := ParsePublicKey(f)
			if err != nil {
				return nil, err
			}
			r[k.Name] = k
		}
	}
	return r, nil
}

// Verify reports whether sig is a valid signature of msg by one of the
// keys, found by the name sig starts with.
func (r Keyring) Verify(msg, sig string) bool {
	name, _, _ := strings.Cut(sig, ":")
	k := r[name]
	return k != nil && k.Verify(msg, sig)
}

// CountValid returns how many of sigs are valid signatures of msg by a
// key of the ring, as Nix's ValidPathInfo::checkSignatures counts them.
func (r Keyring) CountValid(msg string, sigs []string) int {
	n := 0
	for _, s := range sigs {
		if r.Verify(msg, s) {
			n++
		}
	}
	return n
}

// Fingerprint is what a signature of a valid path covers:
// "1;<path>;<narHash>;<narSize>;<refs>", the NAR hash in Nix's default
// form (sha256:nixbase32) and the references as sorted absolute store
// paths separated by commas, exactly as Nix's ValidPathInfo::fingerprint.
// Like Nix, it refuses a path whose NAR size is unknown (0) and a NAR hash
// other than SHA-256.
func Fingerprint(storePath string, narHash nixhash.Hash, narSize int64, references []string) (string, error) {
	if narSize <= 0 {
		return "", fmt.Errorf("cannot calculate fingerprint of path '%s' because its size is not known", storePath)
	}
	if narHash.Algorithm() != nixhash.SHA256 {
		return "", fmt.Errorf("cannot calculate fingerprint of path '%s': its NAR hash is not SHA-256", storePath)
	}
	refs := slices.Clone(references)
	slices.Sort(refs)
	refs = slices.Compact(refs)
	return "1;" + storePath + ";" + narHash.String() + ";" + strconv.FormatInt(narSize, 10) + ";" + strings.Join(refs, ","), nil
}
