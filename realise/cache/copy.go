package cache

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// CopyOptions configure CopyToCache.
type CopyOptions struct {
	// Compression of the NAR files: "none", "xz" (the default, as Nix's)
	// or "zstd".
	Compression string
	// SecretKey, if set, signs every path copied (and every path of the
	// closure that the cache has already, which is not changed); the
	// signature is also added to the local store's record of the path.
	SecretKey *signing.SecretKey
	// Priority is written to nix-cache-info when the cache has none yet
	// (0 means DefaultPriority).
	Priority int
	// Progress, if set, is called for each path of the closure: with
	// copied false for a path the cache has already.
	Progress func(path string, copied bool)
}

// CopyToCache copies the closure of paths (valid paths of src) to the
// cache, as nix copy --to does: it writes nix-cache-info if the cache has
// none (and checks its StoreDir otherwise), then, references first, for
// each path the cache does not have, nar/<FILEHASH>.nar[.xz|.zst] and then
// <HASH>.narinfo, so a reader never finds a narinfo whose NAR or
// references are missing. It returns the paths it copied.
func CopyToCache(ctx context.Context, src *local.Store, c *Cache, paths []string, opts CopyOptions) ([]string, error) {
	if opts.Compression == "" {
		opts.Compression = "xz"
	}
	if err := CheckCompression(opts.Compression); err != nil {
		return nil, err
	}
	if opts.Priority == 0 {
		opts.Priority = DefaultPriority
	}
	closure, err := src.Closure(paths)
	if err != nil {
		return nil, err
	}
	for _, p := range closure {
		if err := src.AddTempRoot(p); err != nil {
			return nil, err
		}
	}
	sorted, err := TopoSortPaths(src, closure)
	if err != nil {
		return nil, err
	}
	if err := c.Init(ctx, src.StoreDir(), opts.Priority); err != nil {
		return nil, err
	}
	var copied []string
	for _, p := range sorted {
		if err := ctx.Err(); err != nil {
			return copied, err
		}
		info, err := src.QueryPathInfo(p)
		if err != nil {
			return copied, err
		}
		if opts.SecretKey != nil {
			fp, err := signing.Fingerprint(p, info.NarHash, info.NarSize, info.References)
			if err != nil {
				return copied, err
			}
			sig := opts.SecretKey.Sign(fp)
			if !slices.Contains(info.Sigs, sig) {
				if err := src.AddSignatures(p, []string{sig}); err != nil {
					return copied, err
				}
				info.Sigs = append(info.Sigs, sig)
			}
		}
		has, err := c.HasPath(ctx, p)
		if err != nil {
			return copied, err
		}
		if has {
			if opts.Progress != nil {
				opts.Progress(p, false)
			}
			continue
		}
		if err := c.AddPath(ctx, info, opts.Compression); err != nil {
			return copied, fmt.Errorf("copying '%s' to '%s': %w", p, c.url, err)
		}
		copied = append(copied, p)
		if opts.Progress != nil {
			opts.Progress(p, true)
		}
	}
	return copied, nil
}

// AddPath writes one valid local path to the cache: its NAR, compressed
// with compression, as nar/<FILEHASH><ext> (unless a file of that name
// exists), then its narinfo with info's references, deriver, signatures
// and content address. The NAR is checked against info's NAR hash while
// it is written. The cache must be initialised (Init); references are not
// copied.
func (c *Cache) AddPath(ctx context.Context, info *local.PathInfo, compression string) error {
	if err := CheckCompression(compression); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "nixl-nar-")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	fileHasher := nixhash.SHA256.New()
	fileCount := &store.CountingWriter{W: io.MultiWriter(tmp, fileHasher)}
	cw, err := compressor(fileCount, compression)
	if err != nil {
		return err
	}
	narHasher := nixhash.SHA256.New()
	narSize, err := store.DumpPath(io.MultiWriter(cw, narHasher), info.Path, nil)
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		return err
	}
	if got := nixhash.FromSum(nixhash.SHA256, narHasher.Sum(nil)); got != info.NarHash || narSize != info.NarSize {
		return fmt.Errorf("path '%s' has changed: its NAR hash is %s (%d bytes), not the recorded %s (%d bytes)", info.Path, got, narSize, info.NarHash, info.NarSize)
	}
	ni := narInfoFromPathInfo(info)
	ni.Compression = compression
	ni.FileHash = nixhash.FromSum(nixhash.SHA256, fileHasher.Sum(nil))
	ni.FileSize = fileCount.N
	ni.URL = "nar/" + ni.FileHash.NixBase32() + narExtension(compression)
	has, err := c.b.exists(ctx, ni.URL)
	if err != nil {
		return err
	}
	if !has {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := c.b.put(ctx, ni.URL, tmp, ni.FileSize, "application/x-nix-nar"); err != nil {
			return err
		}
	}
	return c.PutNarInfo(ctx, ni)
}

// PutNarInfo writes ni as the cache's <HASH>.narinfo.
func (c *Cache) PutNarInfo(ctx context.Context, ni *NarInfo) error {
	name, err := narInfoName(ni.StorePath)
	if err != nil {
		return err
	}
	text := ni.String()
	return c.b.put(ctx, name, stringsReader(text), int64(len(text)), "text/x-nix-narinfo")
}
