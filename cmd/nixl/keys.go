package main

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/cache"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store/local"
)

// The 'nixl store' subcommands for sharing paths: keys and signatures,
// export and import. They join the list of storecmd.go here.
func init() {
	storeSubs = append(storeSubs,
		storeSub{"export", "PATH…", "write the closure of paths to standard output in nix-store --export format", storeExport},
		storeSub{"generate-key", "", "make a binary cache signing key pair (nix-store --generate-binary-cache-key)", storeGenerateKey},
		storeSub{"import", "", "add the paths of a nix-store --export stream on standard input to the store", storeImport},
		storeSub{"sign", "PATH…", "sign store paths with a secret key, recording the signatures (nix store sign)", storeSign},
	)
	slices.SortStableFunc(storeSubs, func(a, b storeSub) int { return strings.Compare(a.name, b.name) })
}

func storeGenerateKey(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	name := fs.String("name", "", "the key's `NAME`, conventionally the cache's host name and a number (example.org-1)")
	secret := fs.String("secret", "", "write the secret key to `FILE` (mode 0600)")
	public := fs.String("public", "", "write the public key to `FILE`")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 0, 0, ""); err != nil {
			return c.errorf("%v", err)
		}
		if *name == "" || *secret == "" || *public == "" {
			return c.errorf("--name, --secret and --public are required")
		}
		k, err := signing.GenerateKey(*name)
		if err != nil {
			return c.errorf("%v", err)
		}
		if err := k.WriteFiles(*secret, *public); err != nil {
			return c.errorf("%v", err)
		}
		return 0
	}
}

func storeSign(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	keyFile := fs.StringP("key", "k", "", "the secret key `FILE`")
	fs.StringVar(keyFile, "key-file", "", "the same as --key (nix store sign's name)")
	recursive := fs.BoolP("recursive", "r", false, "sign the closures of the paths")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		if *keyFile == "" {
			return c.errorf("--key is required")
		}
		key, err := signing.ReadSecretKeyFile(*keyFile)
		if err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			paths, err := resolveAll(s, args, *recursive)
			if err != nil {
				return err
			}
			n := 0
			for _, p := range paths {
				info, err := s.QueryPathInfo(p)
				if err != nil {
					return err
				}
				fp, err := signing.Fingerprint(p, info.NarHash, info.NarSize, info.References)
				if err != nil {
					return err
				}
				sig := key.Sign(fp)
				if slices.Contains(info.Sigs, sig) {
					continue
				}
				if err := s.AddSignatures(p, []string{sig}); err != nil {
					return err
				}
				n++
			}
			fmt.Fprintf(c.stderr, "added %d signatures\n", n)
			return nil
		})
	}
}

// resolveAll resolves arguments to valid store paths, and to their
// closure with closure.
func resolveAll(s *local.Store, args []string, closure bool) ([]string, error) {
	var paths []string
	for _, a := range args {
		p, err := resolveValid(s, a)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if closure {
		return s.Closure(paths)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

func storeExport(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	noClosure := fs.Bool("no-closure", false, "export only the paths given, not their closure (as nix-store --export)")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			paths, err := resolveAll(s, args, !*noClosure)
			if err != nil {
				return err
			}
			w := bufio.NewWriterSize(c.stdout, 64<<10)
			if err := cache.Export(w, s, paths); err != nil {
				return err
			}
			return w.Flush()
		})
	}
}

func storeImport(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 0, 0, ""); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			paths, err := cache.Import(c.stdin, s)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Fprintln(c.stdout, p)
			}
			return nil
		})
	}
}
