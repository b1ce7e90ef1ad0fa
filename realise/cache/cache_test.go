package cache

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/signing"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

const nixNarInfo = `StorePath: /nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello-2.12.1
URL: nar/1q0sxd3y0lk4c1mgjc1w6a5jc3s83bxnl1z1ikhmd0gq3b1njhs3.nar.xz
Compression: xz
FileHash: sha256:1q0sxd3y0lk4c1mgjc1w6a5jc3s83bxnl1z1ikhmd0gq3b1njhs3
FileSize: 50264
NarHash: sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5
NarSize: 226488
References: 8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello-2.12.1 yaz6vivpkgsh8k1fgc2d8dsrbzkfc5g3-glibc-2.35-224
Deriver: i2l8y2qbq4m6k8d2l4mkmv0d27phnc8a-hello-2.12.1.drv
Sig: cache.nixos.org-1:a5A3dmxfqQjQZPF0S6GS6QhqyX7NfDZt9W9d8yvw6lXH5JpkQ3cBkJzwZpTT7cA+2ltQw5BdmhyOlWEsGhpwDg==
CA: fixed:r:sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5
`

func TestNarInfoParseAndRender(t *testing.T) {
	ni, err := ParseNarInfo(store.DefaultDir, nixNarInfo, "test")
	must(t, err)
	if ni.String() != nixNarInfo {
		t.Errorf("rendered narinfo differs:\n%s\nwant:\n%s", ni, nixNarInfo)
	}
	if len(ni.References) != 2 || ni.References[1] != "/nix/store/yaz6vivpkgsh8k1fgc2d8dsrbzkfc5g3-glibc-2.35-224" {
		t.Errorf("references %v", ni.References)
	}
	fp, err := ni.Fingerprint()
	must(t, err)
	want := "1;/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello-2.12.1;sha256:0f3m6ajl0qsrqp5z2knlmd5xvxgc7y8sbm4xmwj66p5dsmkvk4j5;226488;" +
		"/nix/store/8l8fqqah0f0rydn2d7ba9hm6pa0m5ydd-hello-2.12.1,/nix/store/yaz6vivpkgsh8k1fgc2d8dsrbzkfc5g3-glibc-2.35-224"
	if fp != want {
		t.Errorf("fingerprint\n%s\nwant\n%s", fp, want)
	}
	// Missing compression means bzip2; missing required fields are errors.
	noComp := strings.Replace(nixNarInfo, "Compression: xz\n", "", 1)
	if ni, err := ParseNarInfo(store.DefaultDir, noComp, "t"); err != nil || ni.Compression != "bzip2" {
		t.Errorf("compression default: %v %v", ni, err)
	}
	for _, field := range []string{"StorePath", "URL", "NarHash", "NarSize"} {
		var lines []string
		for _, l := range strings.SplitAfter(nixNarInfo, "\n") {
			if !strings.HasPrefix(l, field+":") {
				lines = append(lines, l)
			}
		}
		if _, err := ParseNarInfo(store.DefaultDir, strings.Join(lines, ""), "t"); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("without %s: %v", field, err)
		}
	}
	if _, err := ParseNarInfo("/other/store", nixNarInfo, "t"); err == nil {
		t.Error("a narinfo of another store directory was accepted")
	}
}

func TestCacheInfo(t *testing.T) {
	ci, err := ParseCacheInfo("StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n")
	must(t, err)
	if ci.StoreDir != "/nix/store" || !ci.WantMassQuery || ci.Priority != 40 {
		t.Errorf("%+v", ci)
	}
	if ci.String() != "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n" {
		t.Errorf("%q", ci.String())
	}
	ci, err = ParseCacheInfo("StoreDir: /nix/store\n")
	if err != nil || ci.Priority != DefaultPriority || ci.WantMassQuery {
		t.Errorf("%+v %v", ci, err)
	}
}

// closure makes dep <- mid <- top (input addressed) and a text file
// referring to top.
func makeClosure(t *testing.T, s *local.Store) (top string, all []string) {
	t.Helper()
	dep := addInputAddressed(t, s, "dep", "dep contents")
	mid := addInputAddressed(t, s, "mid", "mid contents", dep)
	top = addInputAddressed(t, s, "top", strings.Repeat("big file contents ", 200000), dep, mid)
	txt, err := s.AddText("note", "see "+top, []string{top})
	must(t, err)
	return txt, []string{dep, mid, top, txt}
}

func TestExportImportRoundTrip(t *testing.T) {
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	closure, err := a.Closure([]string{top})
	must(t, err)
	var stream bytes.Buffer
	must(t, Export(&stream, a, closure))
	infos := map[string]*local.PathInfo{}
	for _, p := range all {
		info, err := a.QueryPathInfo(p)
		must(t, err)
		infos[p] = info
	}
	exported := slices.Clone(stream.Bytes())
	must(t, a.Close())

	b := ts.open(t)
	got, err := Import(bytes.NewReader(exported), b)
	must(t, err)
	sorted, _ := TopoSortPaths(b, all)
	if !slices.Equal(got, sorted) {
		t.Errorf("imported %v, want %v", got, sorted)
	}
	for _, p := range all {
		info, err := b.QueryPathInfo(p)
		must(t, err)
		want := infos[p]
		if info.NarHash != want.NarHash || info.NarSize != want.NarSize || !slices.Equal(info.References, want.References) || info.Deriver != want.Deriver || info.CA != want.CA {
			t.Errorf("%s: imported %+v, want %+v", p, info, want)
		}
	}
	problems, err := b.Verify(true)
	must(t, err)
	if len(problems) != 0 {
		t.Errorf("verify: %v", problems)
	}
	var again bytes.Buffer
	must(t, Export(&again, b, all))
	if !bytes.Equal(again.Bytes(), exported) {
		t.Error("exporting the imported paths gives other bytes")
	}
	// Importing again changes nothing.
	if _, err := Import(bytes.NewReader(exported), b); err != nil {
		t.Fatal(err)
	}
	stagingEmpty(t, b)
}

func TestImportRejectsBadStreams(t *testing.T) {
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	var stream bytes.Buffer
	must(t, Export(&stream, a, all))
	good := slices.Clone(stream.Bytes())
	var partial bytes.Buffer
	must(t, Export(&partial, a, []string{top})) // references missing
	must(t, a.Close())

	corruptNAR := slices.Clone(good)
	i := bytes.Index(corruptNAR, []byte("regular"))
	corruptNAR[i] = 'R'
	wrongMagic := slices.Clone(good)
	i = bytes.Index(wrongMagic, []byte("NIXE"))
	wrongMagic[i] = 'X'
	badPath := bytes.Replace(slices.Clone(good), []byte(ts.dir+"/"), []byte(ts.dir+"x"), 1)
	for name, tc := range map[string]struct {
		data []byte
		msg  string
	}{
		"truncated":         {good[:len(good)-20], "unexpected end"},
		"truncated in NAR":  {good[:200], "unexpected end"},
		"corrupt NAR":       {corruptNAR, "malformed NAR"},
		"wrong magic":       {wrongMagic, "wrong format"},
		"bad path":          {badPath, "store"},
		"missing reference": {partial.Bytes(), "neither valid nor in the stream"},
		"not an export":     {[]byte("hello world, this is not an export"), "doesn't look like"},
	} {
		t.Run(name, func(t *testing.T) {
			b := ts.open(t)
			_, err := Import(bytes.NewReader(tc.data), b)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one containing %q", err, tc.msg)
			}
			if valid, _ := b.QueryAllValidPaths(); len(valid) != 0 {
				t.Errorf("registered %v", valid)
			}
			if e := storeEntries(t, b); len(e) != 0 {
				t.Errorf("left %v in the store", e)
			}
			stagingEmpty(t, b)
		})
	}
}

func TestCopyToCacheAndSubstitute(t *testing.T) {
	key, err := signing.GenerateKey("test-1")
	must(t, err)
	for _, comp := range []string{"none", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			ts := newTestStore(t)
			a := ts.open(t)
			top, all := makeClosure(t, a)
			dir := filepath.Join(t.TempDir(), "cache")
			c, err := Open("file://"+dir, nil)
			must(t, err)
			copied, err := CopyToCache(ctx, a, c, []string{top}, CopyOptions{Compression: comp, SecretKey: key})
			must(t, err)
			if len(copied) != len(all) {
				t.Fatalf("copied %v", copied)
			}
			ci, err := os.ReadFile(filepath.Join(dir, "nix-cache-info"))
			must(t, err)
			if string(ci) != "StoreDir: "+ts.dir+"\nWantMassQuery: 1\nPriority: 50\n" {
				t.Errorf("nix-cache-info %q", ci)
			}
			infos := map[string]*local.PathInfo{}
			for _, p := range all {
				info, err := a.QueryPathInfo(p)
				must(t, err)
				if len(info.Sigs) != 1 || !strings.HasPrefix(info.Sigs[0], "test-1:") {
					t.Errorf("%s: signatures in the database %v", p, info.Sigs)
				}
				infos[p] = info
				ni, err := c.NarInfo(ctx, a.StoreDir(), p)
				must(t, err)
				if ni == nil || ni.Compression != comp || !strings.HasSuffix(ni.URL, narExtension(comp)) || ni.FileHash.IsZero() {
					t.Fatalf("%s: narinfo %+v", p, ni)
				}
				if _, err := os.Stat(filepath.Join(dir, ni.URL)); err != nil {
					t.Error(err)
				}
			}
			// Copying again copies nothing.
			if copied, err := CopyToCache(ctx, a, c, []string{top}, CopyOptions{Compression: comp}); err != nil || len(copied) != 0 {
				t.Errorf("second copy: %v %v", copied, err)
			}
			must(t, a.Close())

			b := ts.open(t)
			var mu sync.Mutex
			events := map[EventKind]int{}
			sub := &Substituter{Caches: []*Cache{c}, TrustedKeys: signing.NewKeyring(key.PublicKey()), Jobs: 3, Progress: func(e Event) {
				mu.Lock()
				events[e.Kind]++
				mu.Unlock()
			}}
			found, err := sub.Query(ctx, b.StoreDir(), all)
			must(t, err)
			if len(found) != len(all) {
				t.Errorf("query found %d paths", len(found))
			}
			got, err := sub.Substitute(ctx, b, []string{top})
			must(t, err)
			slices.Sort(got)
			want := slices.Clone(all)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("substituted %v, want %v", got, want)
			}
			for _, p := range all {
				info, err := b.QueryPathInfo(p)
				must(t, err)
				w := infos[p]
				if info.NarHash != w.NarHash || !slices.Equal(info.References, w.References) || info.Deriver != w.Deriver || info.CA != w.CA || !slices.Equal(info.Sigs, w.Sigs) || info.Ultimate {
					t.Errorf("%s: substituted %+v, want %+v", p, info, w)
				}
			}
			problems, err := b.Verify(true)
			must(t, err)
			if len(problems) != 0 {
				t.Errorf("verify: %v", problems)
			}
			if events[Started] != len(all) || events[Done] != len(all) || events[Receiving] == 0 || events[Failed] != 0 {
				t.Errorf("events %v", events)
			}
			stagingEmpty(t, b)
			// Substituting valid paths does nothing.
			if got, err := sub.Substitute(ctx, b, []string{top}); err != nil || len(got) != 0 {
				t.Errorf("again: %v %v", got, err)
			}
		})
	}
}

// setupCache copies the closure of a fresh store's paths to a file
// cache and returns the store (reopened empty), the cache and its paths.
func setupCache(t *testing.T, comp string, key *signing.SecretKey) (*testStore, *local.Store, *Cache, string, string, []string) {
	t.Helper()
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir, nil)
	must(t, err)
	_, err = CopyToCache(ctx, a, c, []string{top}, CopyOptions{Compression: comp, SecretKey: key})
	must(t, err)
	must(t, a.Close())
	return ts, ts.open(t), c, dir, top, all
}

func narInfoFile(t *testing.T, dir, p string) string {
	name, err := narInfoName(p)
	must(t, err)
	return filepath.Join(dir, name)
}

func editFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, edit(data), 0o644))
}

func TestSubstituteRejectsBadCaches(t *testing.T) {
	key, _ := signing.GenerateKey("good-1")
	other, _ := signing.GenerateKey("other-1")
	trusted := signing.NewKeyring(key.PublicKey())
	type setup func(t *testing.T, dir, top string, ni *NarInfo)
	for name, tc := range map[string]struct {
		comp  string
		keys  signing.Keyring
		setup setup
		msg   string
	}{
		"unsigned": {"xz", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, narInfoFile(t, dir, top), func(b []byte) []byte {
				return regexpRemoveLine(b, "Sig: ")
			})
		}, "does not have a valid signature"},
		"untrusted key": {"xz", signing.NewKeyring(other.PublicKey()), nil, "does not have a valid signature"},
		"forged signature": {"xz", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, narInfoFile(t, dir, top), func(b []byte) []byte {
				i := bytes.Index(b, []byte("Sig: good-1:")) + len("Sig: good-1:")
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return b
			})
		}, "does not have a valid signature"},
		"changed NarSize": {"xz", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, narInfoFile(t, dir, top), func(b []byte) []byte {
				return bytes.Replace(b, []byte("NarSize: "), []byte("NarSize: 1"), 1)
			})
		}, "does not have a valid signature"},
		"corrupt NAR": {"none", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, filepath.Join(dir, ni.URL), func(b []byte) []byte {
				i := bytes.Index(b, []byte("big file contents"))
				b[i] = 'B'
				return b
			})
		}, "hash mismatch"},
		"truncated NAR": {"none", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, filepath.Join(dir, ni.URL), func(b []byte) []byte { return b[:len(b)/2] })
		}, "corrupt"},
		"truncated xz": {"xz", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, filepath.Join(dir, ni.URL), func(b []byte) []byte { return b[:len(b)-30] })
		}, "cannot substitute"},
		"corrupt zstd": {"zstd", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, filepath.Join(dir, ni.URL), func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b })
		}, "cannot substitute"},
		"missing NAR": {"xz", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			must(t, os.Remove(filepath.Join(dir, ni.URL)))
		}, "is missing"},
		"trailing data": {"none", trusted, func(t *testing.T, dir, top string, ni *NarInfo) {
			editFile(t, filepath.Join(dir, ni.URL), func(b []byte) []byte { return append(b, "garbage!"...) })
		}, "NarSize"},
	} {
		t.Run(name, func(t *testing.T) {
			_, b, c, dir, top, all := setupCache(t, tc.comp, key)
			// The text path at the top is content addressed and needs no
			// signature: damage the input-addressed path below it.
			target := all[2]
			ni, err := c.NarInfo(ctx, b.StoreDir(), target)
			must(t, err)
			if tc.setup != nil {
				tc.setup(t, dir, target, ni)
			}
			sub := &Substituter{Caches: []*Cache{c}, TrustedKeys: tc.keys}
			got, err := sub.Substitute(ctx, b, []string{top})
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one containing %q", err, tc.msg)
			}
			t.Logf("error: %v", err)
			if slices.Contains(got, target) || slices.Contains(got, top) || isValid(t, b, target) || isValid(t, b, top) {
				t.Errorf("substituted %v despite the damage", got)
			}
			for _, e := range storeEntries(t, b) {
				if !slices.ContainsFunc(got, func(p string) bool { return filepath.Base(p) == e }) {
					t.Errorf("left %s in the store", e)
				}
			}
			stagingEmpty(t, b)
		})
	}
}

func regexpRemoveLine(b []byte, prefix string) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte(prefix)) {
			out = append(out, l...)
		}
	}
	return out
}

func TestSubstituteFallsBackToNextCache(t *testing.T) {
	key, _ := signing.GenerateKey("k-1")
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	var caches []*Cache
	var dirs []string
	for _, prio := range []int{10, 20} {
		dir := filepath.Join(t.TempDir(), "cache")
		c, err := Open("file://"+dir, nil)
		must(t, err)
		_, err = CopyToCache(ctx, a, c, []string{top}, CopyOptions{Compression: "none", SecretKey: key, Priority: prio})
		must(t, err)
		caches = append(caches, c)
		dirs = append(dirs, dir)
	}
	must(t, a.Close())
	b := ts.open(t)
	// The preferred cache (priority 10, given last) has a corrupt NAR.
	ni, err := caches[0].NarInfo(ctx, b.StoreDir(), all[2])
	must(t, err)
	editFile(t, filepath.Join(dirs[0], ni.URL), func(d []byte) []byte { d[len(d)-20] ^= 1; return d })
	var failed []string
	var mu sync.Mutex
	sub := &Substituter{Caches: []*Cache{caches[1], caches[0]}, TrustedKeys: signing.NewKeyring(key.PublicKey()), Progress: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == Failed {
			failed = append(failed, e.Cache)
		}
	}}
	if _, err := sub.Substitute(ctx, b, []string{top}); err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0] != caches[0].URL() {
		t.Errorf("failures %v", failed)
	}
	for _, p := range all {
		if !isValid(t, b, p) {
			t.Errorf("%s not valid", p)
		}
	}
}

// putServer is a minimal HTTP binary cache server: it stores what is PUT
// in a directory and serves it back, as an S3-like or nginx WebDAV cache
// Nix uploads to does.
func putServer(t *testing.T) (*httptest.Server, string) {
	dir := t.TempDir()
	var mu sync.Mutex
	puts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/")))
		switch r.Method {
		case http.MethodPut:
			mu.Lock()
			puts++
			mu.Unlock()
			os.MkdirAll(filepath.Dir(name), 0o755)
			data, err := io.ReadAll(r.Body)
			if err != nil || (r.ContentLength >= 0 && int64(len(data)) != r.ContentLength) {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			if err := os.WriteFile(name, data, 0o644); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet, http.MethodHead:
			http.ServeFile(w, r, name)
		default:
			http.Error(w, "no", http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, dir
}

func TestHTTPCacheUploadAndSubstitute(t *testing.T) {
	key, _ := signing.GenerateKey("http-1")
	srv, dir := putServer(t)
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	c, err := Open(srv.URL+"/", nil)
	must(t, err)
	_, err = CopyToCache(ctx, a, c, []string{top}, CopyOptions{Compression: "zstd", SecretKey: key})
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, "nix-cache-info")); err != nil {
		t.Fatal(err)
	}
	must(t, a.Close())
	b := ts.open(t)
	c2, _ := Open(srv.URL, nil)
	sub := &Substituter{Caches: []*Cache{c2}, TrustedKeys: signing.NewKeyring(key.PublicKey())}
	if _, err := sub.Substitute(ctx, b, []string{top}); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if !isValid(t, b, p) {
			t.Errorf("%s not valid", p)
		}
	}
	// A path no cache has.
	missing := filepath.Join(ts.dir, "00000000000000000000000000000000-missing")
	_, err = sub.Substitute(ctx, b, []string{missing})
	if err == nil || !strings.Contains(err.Error(), "not available from any substituter") {
		t.Errorf("missing path: %v", err)
	}
}

func TestServer(t *testing.T) {
	key, _ := signing.GenerateKey("serve-1")
	ts := newTestStore(t)
	a := ts.open(t)
	top, all := makeClosure(t, a)
	for _, comp := range []string{"none", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			h, err := NewServer(a, ServerOptions{SecretKey: key, Compression: comp})
			must(t, err)
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := Open(srv.URL, nil)
			must(t, err)
			ci, err := c.Info(ctx)
			must(t, err)
			if ci.StoreDir != ts.dir || ci.Priority != 30 || !ci.WantMassQuery {
				t.Errorf("%+v", ci)
			}
			for _, p := range all {
				info, err := a.QueryPathInfo(p)
				must(t, err)
				ni, err := c.NarInfo(ctx, a.StoreDir(), p)
				must(t, err)
				if ni == nil || ni.NarHash != info.NarHash || ni.NarSize != info.NarSize || !slices.Equal(ni.References, info.References) || ni.CA != info.CA || ni.Deriver != info.Deriver {
					t.Fatalf("%s: narinfo %+v", p, ni)
				}
				if !ni.Trusted(a.StoreDir(), signing.NewKeyring(key.PublicKey())) || ni.CA == "" && ni.Trusted(a.StoreDir(), nil) {
					t.Errorf("%s: signature check wrong", p)
				}
				rc, err := c.OpenNAR(ctx, ni)
				must(t, err)
				dec, err := Decompress(rc, ni.Compression)
				must(t, err)
				h, n, err := nixhash.SumReader(nixhash.SHA256, dec)
				must(t, err)
				rc.Close()
				if h != info.NarHash || n != info.NarSize {
					t.Errorf("%s: served NAR hashes to %s (%d bytes)", p, h, n)
				}
			}
			missing := filepath.Join(ts.dir, "00000000000000000000000000000000-missing")
			if ni, err := c.NarInfo(ctx, a.StoreDir(), missing); err != nil || ni != nil {
				t.Errorf("missing path: %v %v", ni, err)
			}
			for _, path := range []string{"/nar/xyz.nar", "/../etc/passwd", "/nar/" + strings.Repeat("0", 32) + "-" + strings.Repeat("0", 52) + ".nar"} {
				resp, err := http.Get(srv.URL + path)
				must(t, err)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %s", path, resp.Status)
				}
			}
			resp, err := http.Post(srv.URL+"/nix-cache-info", "text/plain", strings.NewReader("x"))
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST: %s", resp.Status)
			}
		})
	}
	_ = top
}

func TestConfig(t *testing.T) {
	cfg := DefaultConfig()
	must(t, ParseConfig(strings.NewReader(`# comment
substituters = http://a https://b
extra-substituters = file:///c
trusted-public-keys = k-1:2WGmMWvmsz7xVk4N6XPqByjl7yaTXizxOHFxnyk4VLE=  # trailing comment
require-sigs = false
max-substitution-jobs = 8
sandbox = true
`), &cfg))
	if !slices.Equal(cfg.Substituters, []string{"http://a", "https://b", "file:///c"}) || len(cfg.TrustedPublicKeys) != 1 || cfg.RequireSigs || cfg.Jobs != 8 {
		t.Errorf("%+v", cfg)
	}
	sub, err := cfg.NewSubstituter(nil)
	must(t, err)
	if len(sub.Caches) != 3 || !sub.NoCheckSigs || sub.TrustedKeys["k-1"] == nil || sub.Jobs != 8 {
		t.Errorf("%+v", sub)
	}
	must(t, LoadConfigFile(filepath.Join(t.TempDir(), "absent"), &cfg))
}
