package builtinbuild

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nixl-project/nixl/realise/fetch"
)

// unpackTarball is builtin:unpack-tarball, the builder form of
// fetchTarball: it unpacks an archive (tar, tar.gz, tar.xz, tar.bz2,
// tar.zst or zip, recognised by content) into the output. The archive is
// the file at src, or is downloaded from url (or the first of urls that
// works). A single top-level directory is stripped, as fetchTarball does,
// unless stripRoot is set to "" or "0". Entries escaping the output are
// refused, symbolic links kept, and modes normalised (0755 or 0644).
func unpackTarball(c *Context) error {
	out, err := c.output("out")
	if err != nil {
		return err
	}
	archive, ok := c.get("src")
	if !ok {
		var urls []string
		if u, ok := c.get("url"); ok {
			urls = []string{u}
		} else if us, ok := c.get("urls"); ok {
			urls = fields(us)
		}
		if len(urls) == 0 {
			return fmt.Errorf("attribute 'src' missing")
		}
		archive = filepath.Join(c.BuildDir, "archive")
		_, fixed := c.get("outputHash")
		var lastErr error
		for _, u := range urls {
			c.logf("downloading '%s'...", u)
			os.Remove(archive)
			if _, lastErr = fetch.DownloadToFile(c.Ctx, u, archive, fetch.DownloadOptions{InsecureTLS: fixed}); lastErr == nil {
				break
			}
			if c.Ctx.Err() != nil {
				return lastErr
			}
		}
		if lastErr != nil {
			return lastErr
		}
		defer os.Remove(archive)
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	if _, err := fetch.Unpack(c.Ctx, archive, out); err != nil {
		return err
	}
	if v, ok := c.get("stripRoot"); ok && (v == "" || v == "0") {
		return nil
	}
	return fetch.StripTopDir(out)
}

// unpackChannel is Nix's builtin:unpack-channel (nix-channel): unpack
// src into the output, which must then hold exactly one entry, renamed
// to channelName.
func unpackChannel(c *Context) error {
	out, err := c.output("out")
	if err != nil {
		return err
	}
	name, err := c.attr("channelName")
	if err != nil {
		return err
	}
	src, err := c.attr("src")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if _, err := fetch.Unpack(c.Ctx, src, out); err != nil {
		return err
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	if len(entries) != 1 {
		return fmt.Errorf("channel tarball '%s' contains more than one file", src)
	}
	if err := os.Rename(filepath.Join(out, entries[0].Name()), filepath.Join(out, name)); err != nil {
		return fmt.Errorf("renaming channel directory: %w", err)
	}
	return nil
}
