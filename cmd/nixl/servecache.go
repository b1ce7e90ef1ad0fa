package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/cache"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	register(&command{name: "serve-cache", summary: "serve the store as a binary cache over HTTP (nix-serve)", run: func(c *cli, args []string) int {
		return c.serveCacheCmd(args)
	}})
}

func (c *cli) serveCacheCmd(args []string) int {
	var o storeOpts
	fs := pflag.NewFlagSet("serve-cache", pflag.ContinueOnError)
	addShareStoreFlags(fs, &o)
	listen := fs.String("listen", "127.0.0.1:5000", "listen on `ADDR` (HOST:PORT; port 0 picks a free one)")
	secretKey := fs.String("secret-key", "", "sign the narinfos served with the secret key in `FILE`")
	compression := fs.String("compression", "none", "compress the NARs served with `METHOD`: none, xz or zstd")
	priority := fs.Int("priority", 30, "the `PRIORITY` announced in nix-cache-info (lower is asked first)")
	usage := joinLines("Usage: nixl serve-cache [FLAGS]", "",
		"Serve the local store as a binary cache in Nix's format: nix-cache-info, HASH.narinfo made",
		"on the fly (signed with --secret-key), and NARs streamed from the store. Substitute from it",
		"with 'nixl copy --from http://ADDR', 'nix copy --from http://ADDR' or the substituters setting.",
		"It runs until interrupted.")
	if code, done := c.parseShareFlags(fs, usage, args); done {
		return code
	}
	if err := needArgs(fs.Args(), 0, 0, ""); err != nil {
		return c.errorf("%v", err)
	}
	opts := cache.ServerOptions{Compression: *compression, Priority: *priority}
	if *secretKey != "" {
		k, err := signing.ReadSecretKeyFile(*secretKey)
		if err != nil {
			return c.errorf("%v", err)
		}
		opts.SecretKey = k
	}
	opts.ErrorLog = func(format string, args ...any) {
		fmt.Fprintf(c.stderr, "warning: "+format+"\n", args...)
	}
	ctx, cancel := shareSignalContext()
	defer cancel()
	return c.withStore(&o, func(s *local.Store) error {
		handler, err := cache.NewServer(s, opts)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
		fmt.Fprintf(c.stderr, "serving '%s' as a binary cache on http://%s\n", s.Dir(), ln.Addr())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
		}
		shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancelShutdown()
		if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	})
}
