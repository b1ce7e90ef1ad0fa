package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/cache"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	register(&command{name: "copy", summary: "copy closures to or from binary caches (nix copy)", run: func(c *cli, args []string) int {
		return c.copyCmd(args)
	}})
}

// addShareStoreFlags gives a top-level command the --store-dir and --state-dir
// flags of 'nixl store'.
func addShareStoreFlags(fs *pflag.FlagSet, o *storeOpts) {
	fs.StringVar(&o.storeDir, "store-dir", "", "the store `DIR` (default: $NIXL_STORE_DIR, else ~/.local/share/nixl/store)")
	fs.StringVar(&o.stateDir, "state-dir", "", "the state `DIR` holding the database and roots (default: $NIXL_STATE_DIR, else ~/.local/share/nixl/var)")
}

// parseShareFlags parses a top-level command's flags; done reports that the
// command should stop with code.
func (c *cli) parseShareFlags(fs *pflag.FlagSet, usage string, args []string) (code int, done bool) {
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "%s\nFlags:\n%s", usage, fs.FlagUsages())
	}
	if rc, stop := c.parseFlags(fs, args); stop {
		return rc, true
	}
	return 0, false
}

// shareSignalContext is cancelled by SIGINT or SIGTERM.
func shareSignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func (c *cli) copyCmd(args []string) int {
	var o storeOpts
	fs := pflag.NewFlagSet("copy", pflag.ContinueOnError)
	addShareStoreFlags(fs, &o)
	to := fs.String("to", "", "copy the closures of local paths to the binary cache at `URL` (file:///DIR, http://HOST:PORT/)")
	from := fs.String("from", "", "substitute paths and their closures from the binary cache at `URL`")
	compression := fs.String("compression", "xz", "with --to, the `METHOD` NARs are compressed with: none, xz or zstd")
	secretKey := fs.String("secret-key", "", "with --to, sign the paths with the secret key in `FILE`")
	keys := fs.StringArray("trusted-public-keys", nil, "with --from, trust signatures by `KEYS` (NAME:BASE64, white-space separated; repeatable)")
	noCheckSigs := fs.Bool("no-check-sigs", false, "with --from, accept paths without a trusted signature")
	jobs := fs.IntP("jobs", "j", 4, "with --from, download `N` paths at once")
	quiet := fs.BoolP("quiet", "q", false, "do not report each path copied")
	usage := joinLines("Usage: nixl copy (--to URL | --from URL) [FLAGS] PATH…", "",
		"Copy store paths with their closures to a binary cache in Nix's format (nix-cache-info,",
		"HASH.narinfo, nar/…), or substitute them from one into the local store, checking signatures,",
		"hashes and sizes. With --from, PATH is a store path that need not exist locally.")
	if code, done := c.parseShareFlags(fs, usage, args); done {
		return code
	}
	args = fs.Args()
	if (*to == "") == (*from == "") {
		return c.errorf("give exactly one of --to and --from")
	}
	if err := needArgs(args, 1, -1, "PATH"); err != nil {
		return c.errorf("%v", err)
	}
	ctx, cancel := shareSignalContext()
	defer cancel()
	if *to != "" {
		if err := cache.CheckCompression(*compression); err != nil {
			return c.errorf("%v", err)
		}
		var key *signing.SecretKey
		if *secretKey != "" {
			k, err := signing.ReadSecretKeyFile(*secretKey)
			if err != nil {
				return c.errorf("%v", err)
			}
			key = k
		}
		dst, err := cache.Open(*to, nil)
		if err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(&o, func(s *local.Store) error {
			var paths []string
			for _, a := range args {
				p, err := resolveValid(s, a)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			_, err := cache.CopyToCache(ctx, s, dst, paths, cache.CopyOptions{
				Compression: *compression,
				SecretKey:   key,
				Progress: func(p string, copied bool) {
					if copied && !*quiet {
						fmt.Fprintf(c.stderr, "copied '%s' to '%s'\n", p, dst.URL())
					}
				},
			})
			return err
		})
	}
	trusted, err := signing.ParseKeyring(*keys...)
	if err != nil {
		return c.errorf("%v", err)
	}
	src, err := cache.Open(*from, nil)
	if err != nil {
		return c.errorf("%v", err)
	}
	sub := &cache.Substituter{Caches: []*cache.Cache{src}, TrustedKeys: trusted, NoCheckSigs: *noCheckSigs, Jobs: *jobs}
	var mu sync.Mutex
	sub.Progress = func(e cache.Event) {
		if *quiet {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case cache.Started:
			fmt.Fprintf(c.stderr, "copying path '%s' from '%s'...\n", e.Path, e.Cache)
		case cache.Failed:
			fmt.Fprintf(c.stderr, "warning: %v\n", e.Err)
		}
	}
	return c.withStore(&o, func(s *local.Store) error {
		var paths []string
		for _, a := range args {
			p, err := storePathArg(s, a)
			if err != nil {
				return err
			}
			paths = append(paths, p)
		}
		_, err := sub.Substitute(ctx, s, paths)
		return err
	})
}

// storePathArg turns an argument naming a store path that may not exist
// yet into an absolute store path: a path in the store directory or a
// base name.
func storePathArg(s *local.Store, arg string) (string, error) {
	if !strings.Contains(arg, "/") {
		arg = filepath.Join(s.Dir(), arg)
	}
	return s.ToStorePath(arg)
}
