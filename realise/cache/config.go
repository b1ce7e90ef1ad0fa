package cache

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/realise/signing"
)

// Config holds the substitution settings, under nix.conf's names.
type Config struct {
	// Substituters are cache URLs (substituters).
	Substituters []string
	// TrustedPublicKeys are "NAME:BASE64" keys (trusted-public-keys).
	TrustedPublicKeys []string
	// RequireSigs (require-sigs, true by default) refuses narinfos
	// without a trusted signature.
	RequireSigs bool
	// Jobs is how many downloads run at once (max-substitution-jobs).
	Jobs int
}

// DefaultConfig is the configuration before any file or flag: no
// substituters, signatures required.
func DefaultConfig() Config { return Config{RequireSigs: true} }

// DefaultConfigFile is where nixl reads its configuration:
// $NIXL_CONF_FILE, else $XDG_CONFIG_HOME/nixl/nixl.conf (by default
// ~/.config/nixl/nixl.conf).
func DefaultConfigFile() string {
	if f := os.Getenv("NIXL_CONF_FILE"); f != "" {
		return f
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "nixl", "nixl.conf")
}

// ParseConfig reads settings in nix.conf syntax ("name = value" lines,
// '#' comments) into cfg: substituters, trusted-public-keys (values are
// white-space separated lists, which replace the current ones; the
// extra-… forms append), require-sigs (true/false) and
// max-substitution-jobs. Other settings are ignored, so a nix.conf can be
// read as it is.
func ParseConfig(r io.Reader, cfg *Config) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		if !ok {
			continue // include directives and the like
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch name {
		case "substituters":
			cfg.Substituters = strings.Fields(value)
		case "extra-substituters":
			cfg.Substituters = append(cfg.Substituters, strings.Fields(value)...)
		case "trusted-public-keys":
			cfg.TrustedPublicKeys = strings.Fields(value)
		case "extra-trusted-public-keys":
			cfg.TrustedPublicKeys = append(cfg.TrustedPublicKeys, strings.Fields(value)...)
		case "require-sigs":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("line %d: invalid require-sigs '%s'", line, value)
			}
			cfg.RequireSigs = b
		case "max-substitution-jobs":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return fmt.Errorf("line %d: invalid max-substitution-jobs '%s'", line, value)
			}
			cfg.Jobs = n
		}
	}
	return sc.Err()
}

// LoadConfigFile reads path into cfg with ParseConfig; a missing file is
// not an error.
func LoadConfigFile(path string, cfg *Config) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := ParseConfig(f, cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// NewSubstituter returns a Substituter for the configuration (opts may be
// nil).
func (cfg Config) NewSubstituter(opts *Options) (*Substituter, error) {
	keys, err := signing.ParseKeyring(cfg.TrustedPublicKeys...)
	if err != nil {
		return nil, err
	}
	s := &Substituter{TrustedKeys: keys, NoCheckSigs: !cfg.RequireSigs, Jobs: cfg.Jobs}
	for _, u := range cfg.Substituters {
		c, err := Open(u, opts)
		if err != nil {
			return nil, err
		}
		s.Caches = append(s.Caches, c)
	}
	return s, nil
}
