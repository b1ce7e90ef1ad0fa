package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// cacheEntry records one fetch: what was asked, where the result is in
// the store, and the server's validators for revalidating it.
type cacheEntry struct {
	Kind      string `json:"kind"` // "file" or "tarball"
	URL       string `json:"url"`
	Name      string `json:"name"`
	StorePath string `json:"storePath"`
	// Hash is the SHA-256 the store path was computed from, in SRI form:
	// of the bytes for a file, of the NAR for a tarball.
	Hash string `json:"hash"`
	// NarHash is the SHA-256 of the NAR of the store path (SRI).
	NarHash      string `json:"narHash"`
	LastModified int64  `json:"lastModified,omitempty"` // newest entry of a tarball
	ETag         string `json:"etag,omitempty"`
	Fetched      int64  `json:"fetched"` // Unix time of the download or revalidation
}

// cache keeps entries as small JSON files in a directory, one per
// (kind, URL, name), written atomically so that concurrent processes
// never see half an entry.
type cache struct {
	dir string
}

func (c *cache) file(kind, url, name string) string {
	sum := sha256.Sum256([]byte("nixl-fetch-v1\x00" + kind + "\x00" + url + "\x00" + name))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".json")
}

func (c *cache) get(kind, url, name string) *cacheEntry {
	if c == nil || c.dir == "" {
		return nil
	}
	b, err := os.ReadFile(c.file(kind, url, name))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Kind != kind || e.URL != url || e.Name != name || e.StorePath == "" {
		return nil
	}
	return &e
}

// put records e; failures only cost a later download, so they are
// ignored.
func (c *cache) put(e *cacheEntry) {
	if c == nil || c.dir == "" {
		return
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.file(e.Kind, e.URL, e.Name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// fresh reports whether an entry fetched at e.Fetched is younger than ttl.
func (e *cacheEntry) fresh(now time.Time, ttl time.Duration) bool {
	return now.Sub(time.Unix(e.Fetched, 0)) < ttl
}
