package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/build"
	"github.com/nixl-project/nixl/realise/cache"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// repairFlags are nixl store verify --repair's: where repaired paths may
// come from besides rebuilding.
type repairFlags struct {
	repair       bool
	substituters []string
	trustedKeys  []string
}

func (r *repairFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&r.repair, "repair", false, "repair the paths found missing or modified: substitute them from a binary cache, else rebuild them from their derivation")
	fs.StringArrayVar(&r.substituters, "substituters", nil, "with --repair, the binary caches at `URLS` to substitute from (default: the substituters setting)")
	fs.StringArrayVar(&r.trustedKeys, "trusted-public-keys", nil, "with --repair, trust signatures by `KEYS` (default: the trusted-public-keys setting)")
}

// substituter returns the substituter of the flags and settings
// ($NIXL_CONF_FILE or ~/.config/nixl/nixl.conf, then $NIXL_CONFIG), or
// nil when there is no binary cache.
func (r *repairFlags) substituter() (*cache.Substituter, error) {
	cfg := cache.DefaultConfig()
	if err := cache.LoadConfigFile(cache.DefaultConfigFile(), &cfg); err != nil {
		return nil, err
	}
	if env := os.Getenv("NIXL_CONFIG"); env != "" {
		if err := cache.ParseConfig(strings.NewReader(env), &cfg); err != nil {
			return nil, fmt.Errorf("NIXL_CONFIG: %w", err)
		}
	}
	if r.substituters != nil {
		cfg.Substituters = strings.Fields(strings.Join(r.substituters, " "))
	}
	if r.trustedKeys != nil {
		cfg.TrustedPublicKeys = strings.Fields(strings.Join(r.trustedKeys, " "))
	}
	if len(cfg.Substituters) == 0 {
		return nil, nil
	}
	return cfg.NewSubstituter(nil)
}

// repairProblems repairs what Verify found, as nix-store --verify
// --repair does: each path is substituted when a binary cache has it with
// a trusted signature, else rebuilt (sandboxed, by Options.Repair) when
// its deriver is a valid derivation that has it as an output. Paths are
// repaired references first, and those that fail are tried again as long
// as others succeed (rebuilding one may need another, an input of its
// build, repaired first). It reports each attempt on stderr and returns
// the problems that remain.
func (c *cli) repairProblems(s *local.Store, problems []local.VerifyProblem, rf *repairFlags) ([]local.VerifyProblem, error) {
	sub, err := rf.substituter()
	if err != nil {
		return problems, err
	}
	ctx, stop := shareSignalContext()
	defer stop()
	byPath := map[string]local.VerifyProblem{}
	var todo []string
	for _, p := range problems {
		byPath[p.Path] = p
		todo = append(todo, p.Path)
	}
	if sorted, err := cache.TopoSortPaths(s, todo); err == nil {
		todo = sorted
	}
	failures := map[string]error{}
	for len(todo) > 0 {
		var failed []string
		for _, path := range todo {
			err := c.repairPath(ctx, s, sub, path)
			if err == nil {
				err = checkRepaired(s, path)
			}
			if ctx.Err() != nil {
				return problems, ctx.Err()
			}
			if err != nil {
				failures[path] = err
				failed = append(failed, path)
				continue
			}
			delete(failures, path)
			fmt.Fprintf(c.stderr, "repaired path '%s'\n", path)
		}
		if len(failed) == len(todo) {
			break // no progress
		}
		todo = failed
	}
	var left []local.VerifyProblem
	for _, p := range problems {
		if err := failures[p.Path]; err != nil {
			fmt.Fprintf(c.stderr, "cannot repair path '%s': %v\n", p.Path, err)
			left = append(left, byPath[p.Path])
		}
	}
	return left, nil
}

func (c *cli) repairPath(ctx context.Context, s *local.Store, sub *cache.Substituter, path string) error {
	var reasons []string
	if sub != nil {
		found, err := sub.Query(ctx, s.StoreDir(), []string{path})
		if err != nil {
			return err
		}
		if f := found[path]; f != nil {
			fmt.Fprintf(c.stderr, "repairing path '%s' by substituting it from '%s'...\n", path, f.Cache.URL())
			err := repairBySubstitution(ctx, s, f)
			if err == nil {
				return nil
			}
			reasons = append(reasons, err.Error())
		} else {
			reasons = append(reasons, "no substituter has it")
		}
	}
	drvPath, output, err := repairDeriver(s, path)
	if err != nil {
		return err
	}
	if drvPath == "" {
		reasons = append(reasons, "it has no deriver whose derivation is valid in the store")
		return errors.New(strings.Join(reasons, "; "))
	}
	fmt.Fprintf(c.stderr, "repairing path '%s' by rebuilding '%s'...\n", path, drvPath)
	rep := newBuildReporter(c.stderr, s, false)
	defer rep.close()
	b := build.New(s, build.Options{Repair: true, Reporter: rep})
	if err := b.CheckSandbox(); err != nil {
		return fmt.Errorf("rebuilding needs the sandbox: %w", err)
	}
	_, err = b.Build(ctx, []build.Target{{DrvPath: drvPath, Outputs: []string{output}}})
	return err
}

// repairDeriver finds a valid derivation that has path as an output: its
// registered deriver, or another valid one.
func repairDeriver(s *local.Store, path string) (drvPath, output string, err error) {
	info, err := s.QueryPathInfo(path)
	if err != nil {
		return "", "", err
	}
	candidates := []string{}
	if info.Deriver != "" {
		candidates = append(candidates, info.Deriver)
	}
	others, err := s.QueryValidDerivers(path)
	if err != nil {
		return "", "", err
	}
	candidates = append(candidates, others...)
	for _, d := range candidates {
		if ok, err := s.IsValidPath(d); err != nil || !ok {
			continue
		}
		drv, err := s.ReadDerivation(d)
		if err != nil {
			continue
		}
		for name, o := range drv.Outputs {
			if o.Path == path {
				return d, name, nil
			}
		}
	}
	return "", "", nil
}

// repairBySubstitution downloads the NAR of f, checks it against its
// narinfo (size and NAR hash; the substituter checked the signature),
// restores it next to the store and swaps it in.
func repairBySubstitution(ctx context.Context, s *local.Store, f *cache.Substitutable) error {
	ni := f.NarInfo
	rc, err := f.Cache.OpenNAR(ctx, ni)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec, err := cache.Decompress(rc, ni.Compression)
	if err != nil {
		return err
	}
	defer dec.Close()
	dir, release, err := s.StagingDir()
	if err != nil {
		return err
	}
	defer release()
	tree := filepath.Join(dir, "repair")
	h := nixhash.SHA256.New()
	counter := &store.CountingWriter{W: h}
	limited := io.LimitReader(dec, ni.NarSize+1)
	if err := store.RestorePath(io.TeeReader(limited, counter), tree); err != nil {
		return fmt.Errorf("the NAR of '%s' from '%s' is corrupt: %w", ni.StorePath, f.Cache.URL(), err)
	}
	if counter.N != ni.NarSize {
		return fmt.Errorf("the NAR of '%s' from '%s' has %d bytes, not %d", ni.StorePath, f.Cache.URL(), counter.N, ni.NarSize)
	}
	if got := nixhash.FromSum(nixhash.SHA256, h.Sum(nil)); got != ni.NarHash {
		return fmt.Errorf("hash mismatch in the NAR of '%s' from '%s': expected %s, got %s", ni.StorePath, f.Cache.URL(), ni.NarHash, got)
	}
	if err := local.Canonicalise(tree); err != nil {
		return err
	}
	unlock, err := s.LockPaths([]string{ni.StorePath})
	if err != nil {
		return err
	}
	defer unlock()
	return s.ReplaceValidPath(ni.PathInfo(), tree)
}

// checkRepaired verifies a repaired path against its (new) registration.
func checkRepaired(s *local.Store, path string) error {
	info, err := s.QueryPathInfo(path)
	if err != nil {
		return err
	}
	h, size, err := store.HashPath(nixhash.SHA256, path, nil)
	if err != nil {
		return fmt.Errorf("after the repair: %w", err)
	}
	if h != info.NarHash || size != info.NarSize {
		return fmt.Errorf("after the repair its contents still do not match its registration")
	}
	return nil
}
