package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/realise/store"
)

// errNotFound is what a backend returns for a file the cache does not
// have.
var errNotFound = errors.New("not found")

// backend reads and writes the files of a cache, by names relative to its
// root ("nix-cache-info", "<hash>.narinfo", "nar/<hash>.nar.xz").
type backend interface {
	get(ctx context.Context, name string) (io.ReadCloser, error)
	exists(ctx context.Context, name string) (bool, error)
	// put stores size bytes from r (size may be -1 when unknown).
	put(ctx context.Context, name string, r io.Reader, size int64, contentType string) error
}

// Cache is a binary cache in Nix's format: a directory (file://) or an
// HTTP server (http://, https://) holding nix-cache-info, <hash>.narinfo
// files and NARs below nar/. Its methods are safe for concurrent use.
type Cache struct {
	url string
	b   backend

	infoMu sync.Mutex
	info   *CacheInfo
}

// Options configure Open.
type Options struct {
	// HTTPClient is used for http and https caches (default
	// http.DefaultClient).
	HTTPClient *http.Client
}

// Open returns the cache at rawURL: file:///DIR (or a plain absolute
// directory), http://HOST[:PORT][/PATH] or https://…. It does no I/O.
func Open(rawURL string, opts *Options) (*Cache, error) {
	if opts == nil {
		opts = &Options{}
	}
	if strings.HasPrefix(rawURL, "/") {
		return &Cache{url: "file://" + filepath.Clean(rawURL), b: fileBackend{root: filepath.Clean(rawURL)}}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid cache URL '%s': %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("invalid cache URL '%s': a file URL names a local directory (file:///DIR)", rawURL)
		}
		if !filepath.IsAbs(u.Path) {
			return nil, fmt.Errorf("invalid cache URL '%s': the directory must be absolute", rawURL)
		}
		dir := filepath.Clean(u.Path)
		return &Cache{url: "file://" + dir, b: fileBackend{root: dir}}, nil
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("invalid cache URL '%s': no host", rawURL)
		}
		client := opts.HTTPClient
		if client == nil {
			client = http.DefaultClient
		}
		base := *u
		base.RawQuery, base.Fragment = "", ""
		base.Path = strings.TrimSuffix(base.Path, "/") + "/"
		base.RawPath = ""
		return &Cache{url: strings.TrimSuffix(base.String(), "/"), b: &httpBackend{base: &base, client: client}}, nil
	}
	return nil, fmt.Errorf("unsupported cache URL '%s' (use file:///DIR, http:// or https://)", rawURL)
}

// URL returns the cache's URL, without a trailing slash.
func (c *Cache) URL() string { return c.url }

func (c *Cache) String() string { return c.url }

// Info returns the cache's nix-cache-info (read once).
func (c *Cache) Info(ctx context.Context) (*CacheInfo, error) {
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	if c.info != nil {
		return c.info, nil
	}
	text, err := c.getString(ctx, "nix-cache-info")
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("'%s' does not appear to be a binary cache: it has no nix-cache-info", c.url)
	}
	if err != nil {
		return nil, err
	}
	ci, err := ParseCacheInfo(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.url, err)
	}
	c.info = ci
	return ci, nil
}

// Init prepares the cache for writing paths of the store directory dir:
// it writes nix-cache-info (StoreDir, WantMassQuery 1 and priority) if the
// cache has none, and otherwise checks that its StoreDir is dir.
func (c *Cache) Init(ctx context.Context, dir store.Dir, priority int) error {
	ok, err := c.b.exists(ctx, "nix-cache-info")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // not a directory, permission denied…
		}
		return fmt.Errorf("cannot use '%s' as a binary cache: %w", c.url, err)
	}
	if !ok {
		ci := &CacheInfo{StoreDir: string(dir), WantMassQuery: true, Priority: priority}
		text := ci.String()
		if err := c.b.put(ctx, "nix-cache-info", strings.NewReader(text), int64(len(text)), "text/x-nix-cache-info"); err != nil {
			return fmt.Errorf("writing nix-cache-info to '%s': %w", c.url, err)
		}
	}
	return c.checkStoreDir(ctx, dir)
}

// checkStoreDir checks that the cache holds paths of dir.
func (c *Cache) checkStoreDir(ctx context.Context, dir store.Dir) error {
	ci, err := c.Info(ctx)
	if err != nil {
		return err
	}
	if ci.StoreDir != string(dir) {
		return fmt.Errorf("binary cache '%s' is for Nix stores with prefix '%s', not '%s'", c.url, ci.StoreDir, dir)
	}
	return nil
}

func (c *Cache) getString(ctx context.Context, name string) (string, error) {
	r, err := c.b.get(ctx, name)
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return "", fmt.Errorf("reading '%s' from '%s': %w", name, c.url, err)
	}
	return string(data), nil
}

// NarInfo returns the cache's narinfo of storePath (an absolute path in
// dir), or nil if the cache does not have the path. It checks the cache's
// StoreDir first.
func (c *Cache) NarInfo(ctx context.Context, dir store.Dir, storePath string) (*NarInfo, error) {
	if err := c.checkStoreDir(ctx, dir); err != nil {
		return nil, err
	}
	name, err := narInfoName(storePath)
	if err != nil {
		return nil, err
	}
	text, err := c.getString(ctx, name)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ni, err := ParseNarInfo(dir, text, c.url+"/"+name)
	if err != nil {
		return nil, err
	}
	if ni.StorePath != storePath {
		return nil, fmt.Errorf("NAR info file '%s/%s' is for '%s', not '%s'", c.url, name, ni.StorePath, storePath)
	}
	return ni, nil
}

// HasPath reports whether the cache has a narinfo for storePath.
func (c *Cache) HasPath(ctx context.Context, storePath string) (bool, error) {
	name, err := narInfoName(storePath)
	if err != nil {
		return false, err
	}
	return c.b.exists(ctx, name)
}

// OpenNAR opens the (compressed) NAR file ni names; the caller
// decompresses it (see Decompress) and closes it.
func (c *Cache) OpenNAR(ctx context.Context, ni *NarInfo) (io.ReadCloser, error) {
	name, err := relativeName(ni.URL)
	if err != nil {
		return nil, fmt.Errorf("NAR info of '%s' in '%s': %w", ni.StorePath, c.url, err)
	}
	r, err := c.b.get(ctx, name)
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("the NAR of '%s' is missing from '%s' (%s)", ni.StorePath, c.url, ni.URL)
	}
	return r, err
}

// Decompress returns a reader of the uncompressed contents of r, a NAR
// file compressed with method ("none", "xz", "zstd" or "bzip2").
// Closing it does not close r.
func Decompress(r io.Reader, method string) (io.ReadCloser, error) {
	return decompressor(r, method)
}

// relativeName checks a file name from a narinfo: relative, without ".."
// or an absolute URL.
func relativeName(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "://") || strings.ContainsAny(name, "?#\\") {
		return "", fmt.Errorf("unsupported NAR URL '%s'", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("unsupported NAR URL '%s'", name)
		}
	}
	return name, nil
}

// fileBackend is a cache in a local directory.
type fileBackend struct{ root string }

func (f fileBackend) path(name string) string { return filepath.Join(f.root, filepath.FromSlash(name)) }

func (f fileBackend) get(_ context.Context, name string) (io.ReadCloser, error) {
	r, err := os.Open(f.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound
	}
	return r, err
}

func (f fileBackend) exists(_ context.Context, name string) (bool, error) {
	_, err := os.Stat(f.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// put writes the file under a temporary name and renames it, so readers
// never see a partial file.
func (f fileBackend) put(_ context.Context, name string, r io.Reader, _ int64, _ string) error {
	dst := f.path(name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, r)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// httpBackend is a cache on an HTTP server; writing uses PUT, as Nix's
// HTTP binary cache store does.
type httpBackend struct {
	base   *url.URL
	client *http.Client
}

func (h *httpBackend) url(name string) string {
	u := *h.base
	u.Path += name
	return u.String()
}

// notFound is how Nix's HTTP binary cache store tells a missing file.
func notFound(code int) bool {
	return code == http.StatusNotFound || code == http.StatusForbidden || code == http.StatusGone
}

func (h *httpBackend) do(ctx context.Context, method, name string, body io.Reader, size int64, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, h.url(name), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func httpError(method, u string, resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(msg))
	if text != "" {
		text = ": " + text
	}
	return fmt.Errorf("%s '%s': HTTP %s%s", method, u, resp.Status, text)
}

func (h *httpBackend) get(ctx context.Context, name string) (io.ReadCloser, error) {
	resp, err := h.do(ctx, http.MethodGet, name, nil, 0, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		if notFound(resp.StatusCode) {
			return nil, errNotFound
		}
		return nil, httpError("GET", h.url(name), resp)
	}
	return resp.Body, nil
}

func (h *httpBackend) exists(ctx context.Context, name string) (bool, error) {
	resp, err := h.do(ctx, http.MethodHead, name, nil, 0, "")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return true, nil
	case notFound(resp.StatusCode):
		return false, nil
	}
	return false, httpError("HEAD", h.url(name), resp)
}

func (h *httpBackend) put(ctx context.Context, name string, r io.Reader, size int64, contentType string) error {
	resp, err := h.do(ctx, http.MethodPut, name, r, size, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return httpError("PUT", h.url(name), resp)
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
