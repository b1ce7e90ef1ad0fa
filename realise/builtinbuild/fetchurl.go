package builtinbuild

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nixl-project/nixl/realise/fetch"
	"github.com/nixl-project/nixl/realise/store"
)

// fetchurl is builtin:fetchurl, as <nix/fetchurl.nix> uses it: download
// url (or, without it, each of urls in turn until one works) into the
// output. With unpack = "1" the download is a NAR (xz, gzip, bzip2 or
// zstd compressed, or not) restored as the output; with executable =
// "1" the output is made executable. The realiser checks the output
// hash afterwards. As in Nix, TLS certificates are not verified for a
// fixed-output download, whose hash is checked anyway.
func fetchurl(c *Context) error {
	out, err := c.output("out")
	if err != nil {
		return err
	}
	var urls []string
	if u, ok := c.get("url"); ok {
		urls = []string{u}
	} else if us, ok := c.get("urls"); ok && len(fields(us)) > 0 {
		urls = fields(us)
	} else {
		return fmt.Errorf("attribute 'url' missing")
	}
	_, fixed := c.get("outputHash")
	opts := fetch.DownloadOptions{InsecureTLS: fixed}
	unpack := c.flag("unpack")
	var errs []error
	for _, u := range urls {
		err := fetchOne(c, u, out, unpack, opts)
		if err == nil {
			if c.flag("executable") {
				if err := os.Chmod(out, 0o755); err != nil {
					return fmt.Errorf("making '%s' executable: %w", out, err)
				}
			}
			return nil
		}
		if c.Ctx.Err() != nil {
			return err
		}
		errs = append(errs, err)
		removeAll(out)
		if len(urls) > 1 {
			c.warnf("%v", err)
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("all %d URLs failed; the last: %w", len(errs), errs[len(errs)-1])
}

func fetchOne(c *Context, url, out string, unpack bool, opts fetch.DownloadOptions) error {
	c.logf("downloading '%s'...", url)
	if !unpack {
		_, err := fetch.DownloadToFile(c.Ctx, url, out, opts)
		return err
	}
	tmp, err := os.CreateTemp(c.BuildDir, "download-*")
	if err != nil {
		return err
	}
	tmp.Close()
	os.Remove(tmp.Name())
	defer os.Remove(tmp.Name())
	if _, err := fetch.DownloadToFile(c.Ctx, url, tmp.Name(), opts); err != nil {
		return err
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(8)
	comp := fetch.DetectCompression(head)
	r, done, err := fetch.Decompress(br, comp)
	if err != nil {
		return fmt.Errorf("cannot unpack the NAR downloaded from '%s': %s data: %v", url, comp, err)
	}
	defer done()
	if err := store.RestorePath(r, out); err != nil {
		var fe *store.NARFormatError
		if errors.As(err, &fe) {
			return fmt.Errorf("the file downloaded from '%s' is not a valid NAR: %v", url, err)
		}
		return err
	}
	return nil
}

// removeAll removes a partial output, whatever its permissions.
func removeAll(p string) {
	if os.RemoveAll(p) == nil {
		return
	}
	filepath.Walk(p, func(q string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(q, 0o755)
		}
		return nil
	})
	os.RemoveAll(p)
}

// atoi parses a priority as Nix's stoi does: leading whitespace and
// sign, then digits, ignoring what follows.
func atoi(s string) (int, error) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	j := i
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j {
		return 0, fmt.Errorf("invalid number '%s'", s)
	}
	return strconv.Atoi(s[i:k])
}
