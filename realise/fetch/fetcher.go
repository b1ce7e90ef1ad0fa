package fetch

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

// DefaultTTL is how long a download without a pinned hash is reused
// before the server is asked again: Nix's tarball-ttl default.
const DefaultTTL = time.Hour

// Store is what the fetcher needs of a store; *local.Store has it.
type Store interface {
	// Dir is the store directory.
	Dir() string
	// AddPath adds the file or tree at srcPath under name, flat (the
	// bytes of a regular file, SHA-256) or recursive (the NAR, SHA-256),
	// and returns the store path.
	AddPath(name, srcPath string, recursive bool, filter func(path, kind string) (bool, error)) (string, error)
	// IsValidPath reports whether a store path is valid.
	IsValidPath(path string) (bool, error)
}

// Options configure a Fetcher.
type Options struct {
	// Store receives what is fetched.
	Store Store
	// CacheDir holds the download cache; "" disables it.
	CacheDir string
	// TTL is how long an unpinned download is reused without asking the
	// server (Nix's tarball-ttl); 0 revalidates every time.
	TTL time.Duration
	// Client makes HTTP requests; nil uses a default client.
	Client *http.Client
	// TempDir is where downloads are unpacked before they are added to
	// the store ("" is the system's temporary directory).
	TempDir string
	// Log, if set, gets a line for each download.
	Log io.Writer
	// Now is the clock (time.Now if nil); tests move it.
	Now func() time.Time
	// Ctx cancels downloads (context.Background() if nil).
	Ctx context.Context
}

// Fetcher fetches for the evaluator: it implements builtins.Fetcher
// (FetchURL for fetchurl and fetchTarball, FetchTree for fetchTree and
// fetchGit).
type Fetcher struct {
	opts  Options
	cache *cache
}

// New returns a fetcher adding to opts.Store.
func New(opts Options) *Fetcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	return &Fetcher{opts: opts, cache: &cache{dir: opts.CacheDir}}
}

// HashMismatchError is a download whose content does not have the hash
// it was pinned to. Its message is Nix's.
type HashMismatchError struct {
	URL       string
	Specified nixhash.Hash
	Got       nixhash.Hash
}

func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("hash mismatch in file downloaded from '%s':\n  specified: %s\n  got:       %s", e.URL, e.Specified.String(), e.Got.String())
}

// NarHashMismatchError is a fetched input whose NAR hash is not the
// narHash it was locked to.
type NarHashMismatchError struct {
	Input     string
	Specified nixhash.Hash
	Got       nixhash.Hash
}

func (e *NarHashMismatchError) Error() string {
	return fmt.Sprintf("NAR hash mismatch in input '%s', expected '%s' but got '%s'", e.Input, e.Specified.SRI(), e.Got.SRI())
}

// FetchURL downloads url into the store under name, flat or (unpack)
// unpacked as fetchTarball does, and returns the store path.
// expectedHash is "" or a SHA-256 hash (SRI or any form Nix accepts)
// that the file's bytes (flat) or the unpacked tree's NAR (unpack) must
// have; a mismatch adds nothing to the store.
func (f *Fetcher) FetchURL(url, name string, unpack bool, expectedHash string) (string, error) {
	var expected *nixhash.Hash
	if expectedHash != "" {
		h, err := nixhash.Parse(expectedHash, nixhash.SHA256)
		if err != nil {
			return "", err
		}
		expected = &h
	}
	kind := "file"
	if unpack {
		kind = "tarball"
	}
	e, err := f.fetch(kind, url, name, expected, nil)
	if err != nil {
		return "", err
	}
	return e.StorePath, nil
}

// valid reports whether p is a valid path of the store.
func (f *Fetcher) valid(p string) bool {
	ok, err := f.opts.Store.IsValidPath(p)
	return err == nil && ok
}

// fetch downloads (or finds in the cache) url as a flat file or an
// unpacked tarball. expected pins the content hash (flat SHA-256 of a
// file, NAR SHA-256 of a tarball); expectedNar pins the NAR hash.
func (f *Fetcher) fetch(kind, url, name string, expected, expectedNar *nixhash.Hash) (*cacheEntry, error) {
	now := f.opts.Now()
	etag := ""
	cached := f.cache.get(kind, url, name)
	if cached != nil && f.valid(cached.StorePath) {
		switch {
		case expected != nil || expectedNar != nil:
			if (expected == nil || cached.Hash == expected.SRI()) && (expectedNar == nil || cached.NarHash == expectedNar.SRI()) {
				return cached, nil
			}
			// Pinned to something else: the content may have changed
			// since, so download it again.
		case cached.fresh(now, f.opts.TTL):
			return cached, nil
		default:
			etag = cached.ETag
		}
	} else {
		cached = nil
	}
	tmp, err := os.MkdirTemp(f.opts.TempDir, "nixl-fetch-")
	if err != nil {
		return nil, err
	}
	defer removeTree(tmp)
	if f.opts.Log != nil {
		fmt.Fprintf(f.opts.Log, "downloading '%s'...\n", url)
	}
	file := filepath.Join(tmp, "download")
	resp, err := DownloadToFile(f.opts.Ctx, url, file, DownloadOptions{Client: f.opts.Client, IfNoneMatch: etag})
	if err != nil {
		return nil, err
	}
	if resp.NotModified {
		cached.Fetched = now.Unix()
		f.cache.put(cached)
		return cached, nil
	}
	e := &cacheEntry{Kind: kind, URL: url, Name: name, ETag: resp.ETag, Fetched: now.Unix()}
	var src string
	var got nixhash.Hash
	if kind == "file" {
		src = file
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		got, _, err = nixhash.SumReader(nixhash.SHA256, fh)
		fh.Close()
		if err != nil {
			return nil, err
		}
	} else {
		dir := filepath.Join(tmp, "unpacked")
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		lm, err := Unpack(f.opts.Ctx, file, dir)
		if err != nil {
			if ae, ok := err.(*ArchiveError); ok {
				ae.Archive = url
			}
			return nil, err
		}
		if !lm.IsZero() && lm.Unix() > 0 {
			e.LastModified = lm.Unix()
		}
		if src, err = TopDir(dir); err != nil {
			return nil, err
		}
	}
	nar, _, err := store.HashPath(nixhash.SHA256, src, nil)
	if err != nil {
		return nil, err
	}
	if kind == "tarball" {
		got = nar
	}
	if expected != nil && got != *expected {
		return nil, &HashMismatchError{URL: url, Specified: *expected, Got: got}
	}
	if expectedNar != nil && nar != *expectedNar {
		return nil, &NarHashMismatchError{Input: inputString(kind, url, expectedNar), Specified: *expectedNar, Got: nar}
	}
	p, err := f.opts.Store.AddPath(name, src, kind == "tarball", nil)
	if err != nil {
		return nil, err
	}
	e.StorePath, e.Hash, e.NarHash = p, got.SRI(), nar.SRI()
	f.cache.put(e)
	return e, nil
}

// inputString is the URL form of a file or tarball input, as Nix
// names inputs in errors.
func inputString(kind, url string, narHash *nixhash.Hash) string {
	isTarball := false
	for _, ext := range []string{".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"} {
		if strings.HasSuffix(strings.SplitN(url, "?", 2)[0], ext) {
			isTarball = true
		}
	}
	s := url
	if (kind == "tarball") != isTarball {
		s = kind + "+" + s
	}
	if narHash != nil {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		h := narHash.SRI()
		h = strings.NewReplacer("+", "%2B", "=", "%3D").Replace(h)
		s += sep + "narHash=" + h
	}
	return s
}

// removeTree removes a temporary tree, making read-only directories
// writable first.
func removeTree(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// FetchTree fetches the input attrs describes (fetchTree's attributes,
// checked by the builtins) and returns its store path and the
// attributes of the locked input. Types "file", "tarball" and "path"
// are supported, and "git" for repositories on the local file system.
func (f *Fetcher) FetchTree(attrs map[string]any) (string, map[string]any, error) {
	typ, _ := attrs["type"].(string)
	str := func(k string) string { s, _ := attrs[k].(string); return s }
	var narHash *nixhash.Hash
	if s, ok := attrs["narHash"].(string); ok {
		h, err := parseNarHash(s)
		if err != nil {
			return "", nil, err
		}
		narHash = &h
	}
	name := str("name")
	if name == "" {
		name = "source"
	}
	locked := map[string]any{}
	for k, v := range attrs {
		locked[k] = v
	}
	switch typ {
	case "file", "tarball":
		url := str("url")
		e, err := f.fetch(typ, url, name, nil, narHash)
		if err != nil {
			return "", nil, err
		}
		locked["narHash"] = e.NarHash
		if typ == "tarball" {
			if want, ok := attrs["lastModified"].(uint64); ok && want != uint64(e.LastModified) {
				return "", nil, fmt.Errorf("'lastModified' attribute mismatch in input '%s', expected %d", inputString(typ, url, narHash), want)
			}
			locked["lastModified"] = uint64(e.LastModified)
		}
		return e.StorePath, locked, nil
	case "path":
		return f.fetchPath(attrs, narHash, locked)
	case "git":
		return f.fetchGit(attrs, narHash, locked)
	}
	return "", nil, fmt.Errorf("fetching inputs of type '%s' is not available in this build of nixl yet", typ)
}

// parseNarHash parses a narHash attribute: SRI SHA-256, or "" for the
// all-zero hash.
func parseNarHash(s string) (nixhash.Hash, error) {
	if s == "" {
		return nixhash.New(nixhash.SHA256, make([]byte, 32))
	}
	h, err := nixhash.ParseSRI(s)
	if err != nil {
		if h2, err2 := nixhash.ParsePrefixed(s); err2 == nil {
			h, err = h2, nil
		}
	}
	if err != nil {
		return nixhash.Hash{}, err
	}
	if h.Algorithm() != nixhash.SHA256 {
		return nixhash.Hash{}, fmt.Errorf("Hash '%s' is not SHA256", s)
	}
	return h, nil
}

// fetchPath copies a local path into the store.
func (f *Fetcher) fetchPath(attrs map[string]any, narHash *nixhash.Hash, locked map[string]any) (string, map[string]any, error) {
	p, _ := attrs["path"].(string)
	if !filepath.IsAbs(p) {
		return "", nil, fmt.Errorf("path '%s' is not absolute", p)
	}
	if narHash != nil {
		sp, err := store.Dir(f.opts.Store.Dir()).MakeFixedOutputPath("source", store.RecursiveMethod, *narHash, nil, false)
		if err == nil && f.valid(store.Dir(f.opts.Store.Dir()).Path(sp)) {
			if _, ok := locked["lastModified"]; !ok {
				if mt, err := newestMtime(p); err == nil {
					locked["lastModified"] = mt
				}
			}
			return store.Dir(f.opts.Store.Dir()).Path(sp), locked, nil
		}
	}
	got, _, err := store.HashPath(nixhash.SHA256, p, nil)
	if err != nil {
		return "", nil, err
	}
	if narHash != nil && got != *narHash {
		return "", nil, &NarHashMismatchError{Input: "path:" + p + "?narHash=" + strings.NewReplacer("+", "%2B", "=", "%3D").Replace(narHash.SRI()), Specified: *narHash, Got: got}
	}
	sp, err := f.opts.Store.AddPath("source", p, true, nil)
	if err != nil {
		return "", nil, err
	}
	locked["narHash"] = got.SRI()
	if _, ok := locked["lastModified"]; !ok {
		if mt, err := newestMtime(p); err == nil {
			locked["lastModified"] = mt
		}
	}
	return sp, locked, nil
}

// newestMtime is the newest modification time in a tree, in Unix
// seconds.
func newestMtime(root string) (uint64, error) {
	var newest int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if t := fi.ModTime().Unix(); t > newest {
			newest = t
		}
		return nil
	})
	if newest < 0 {
		newest = 0
	}
	return uint64(newest), err
}
