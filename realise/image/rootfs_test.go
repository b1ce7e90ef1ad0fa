package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// tentry is an entry of a test layer.
type tentry struct {
	name string
	typ  byte
	mode int64
	body string // file contents or link target
}

func layerTar(t *testing.T, entries ...tentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: 33, Gid: 33, Uname: "www-data"}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.body))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.body
		case tar.TypeChar:
			h.Devmajor, h.Devminor = 1, 3
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compress(t *testing.T, data []byte, how string) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch how {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(data)
		zw.Close()
	default:
		return data
	}
	return buf.Bytes()
}

// testLayout writes an OCI image layout of the layers (tars, each
// compressed as the corresponding entry of how says) and returns it.
func testLayout(t *testing.T, cfg RuntimeConfig, how []string, layers ...[]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := initLayout(dir); err != nil {
		t.Fatal(err)
	}
	c := ConfigFile{Architecture: "amd64", OS: "linux", Config: cfg, RootFS: RootFS{Type: "layers"}}
	m := Manifest{SchemaVersion: 2, MediaType: MediaTypeManifest}
	for i, l := range layers {
		sum := sha256.Sum256(l)
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, "sha256:"+hex.EncodeToString(sum[:]))
		blob := compress(t, l, how[i])
		d, err := writeBlobBytes(dir, blob)
		if err != nil {
			t.Fatal(err)
		}
		mt := map[string]string{"gzip": MediaTypeLayerGzip, "zstd": MediaTypeLayerZstd, "": MediaTypeLayer}[how[i]]
		m.Layers = append(m.Layers, Descriptor{MediaType: mt, Digest: d, Size: int64(len(blob))})
	}
	cfgData, _ := canonicalJSON(c)
	cd, err := writeBlobBytes(dir, cfgData)
	if err != nil {
		t.Fatal(err)
	}
	m.Config = Descriptor{MediaType: MediaTypeConfig, Digest: cd, Size: int64(len(cfgData))}
	mData, _ := canonicalJSON(m)
	md, err := writeBlobBytes(dir, mData)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLayoutFiles(dir, Descriptor{MediaType: MediaTypeManifest, Digest: md, Size: int64(len(mData))}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// treeListing describes a tree as "path type mode [target|contents]"
// lines, sorted.
func treeListing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, _ := os.Lstat(p)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out = append(out, rel+" -> "+l)
		case fi.IsDir():
			out = append(out, rel+"/")
		default:
			data, _ := os.ReadFile(p)
			x := ""
			if fi.Mode()&0o111 != 0 {
				x = "*"
			}
			out = append(out, rel+x+" "+strings.TrimSpace(string(data)))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func rootFSLayers(t *testing.T) [][]byte {
	base := layerTar(t,
		tentry{"./", tar.TypeDir, 0o755, ""},
		tentry{"./etc/", tar.TypeDir, 0o755, ""},
		tentry{"./etc/a", tar.TypeReg, 0o644, "a"},
		tentry{"./etc/b", tar.TypeReg, 0o600, "b"},
		tentry{"./etc/issue", tar.TypeReg, 0o644, "Debian"},
		tentry{"./usr/bin/", tar.TypeDir, 0o755, ""},
		tentry{"./usr/bin/su", tar.TypeReg, 0o4755, "setuid"},
		tentry{"./usr/bin/su2", tar.TypeLink, 0, "usr/bin/su"},
		tentry{"./bin", tar.TypeSymlink, 0o777, "usr/bin"},
		tentry{"./dev/", tar.TypeDir, 0o755, ""},
		tentry{"./dev/null", tar.TypeChar, 0o666, ""},
		tentry{"./dev/fifo", tar.TypeFifo, 0o644, ""},
		tentry{"./opq/old1", tar.TypeReg, 0o644, "old"},
		tentry{"./opq/sub/old2", tar.TypeReg, 0o644, "old"},
		tentry{"./opq/sub/kept-by-layer", tar.TypeReg, 0o644, "old"},
		tentry{"./gone", tar.TypeReg, 0o644, "gone"},
		tentry{"./gonedir/x", tar.TypeReg, 0o644, "gone"},
		tentry{"./tmp/", tar.TypeDir, 0o1777, ""},
	)
	upper := layerTar(t,
		tentry{".wh.gone", tar.TypeReg, 0o644, ""},
		tentry{".wh.gonedir", tar.TypeReg, 0o644, ""},
		tentry{"opq/new", tar.TypeReg, 0o644, "new"},
		tentry{"opq/.wh..wh..opq", tar.TypeReg, 0o644, ""},
		tentry{"opq/sub/new2", tar.TypeReg, 0o644, "new"},
		tentry{"opq/sub/kept-by-layer", tar.TypeReg, 0o644, "rewritten"},
		tentry{"bin/added", tar.TypeReg, 0o755, "through the link"},
		tentry{"etc/a", tar.TypeSymlink, 0o777, "b"},
		tentry{"etc/b/", tar.TypeDir, 0o755, ""},
		tentry{"etc/b/c", tar.TypeReg, 0o644, "c"},
		tentry{"/etc/.wh.issue", tar.TypeReg, 0o644, ""},
		tentry{".wh.never-was", tar.TypeReg, 0o644, ""},
	)
	escapes := layerTar(t,
		tentry{"esc", tar.TypeSymlink, 0o777, "/"},
		tentry{"esc/etc/c", tar.TypeReg, 0o644, "inside"},
		tentry{"up", tar.TypeSymlink, 0o777, "../../../.."},
		tentry{"up/x", tar.TypeReg, 0o644, "inside too"},
	)
	return [][]byte{base, upper, escapes}
}

var wantRootFS = []string{
	"bin -> usr/bin",
	"dev/",
	"esc -> /",
	"etc/",
	"etc/a -> b",
	"etc/b/",
	"etc/b/c c",
	"etc/c inside",
	"opq/",
	"opq/new new",
	"opq/sub/",
	"opq/sub/kept-by-layer rewritten",
	"opq/sub/new2 new",
	"tmp/",
	"up -> ../../../..",
	"usr/",
	"usr/bin/",
	"usr/bin/added* through the link",
	"usr/bin/su* setuid",
	"usr/bin/su2* setuid",
	"x inside too",
}

// TestUnpackRootFS applies layers with whiteouts, opaque directories,
// links through symbolic links and device nodes, from a layout with
// gzip, plain and zstd layers and from a Docker archive of it.
func TestUnpackRootFS(t *testing.T) {
	layers := rootFSLayers(t)
	cfg := RuntimeConfig{Env: []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "BAD=a\nb"}, WorkingDir: "/srv"}
	layout := testLayout(t, cfg, []string{"gzip", "", "zstd"}, layers...)
	out := filepath.Join(t.TempDir(), "rootfs")
	var log bytes.Buffer
	stats, err := UnpackRootFS(context.Background(), &RootFSSpec{Image: layout, Platform: &Platform{OS: "linux", Architecture: "amd64"}, Log: &log}, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := treeListing(t, out); strings.Join(got, "\n") != strings.Join(wantRootFS, "\n") {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRootFS, "\n"))
	}
	if stats.Layers != 3 || stats.Skipped != 2 || stats.Config.WorkingDir != "/srv" {
		t.Errorf("stats %+v", stats)
	}
	if !strings.Contains(log.String(), "2 device nodes or FIFOs left out") {
		t.Errorf("log: %s", log.String())
	}
	fi, _ := os.Stat(filepath.Join(out, "usr/bin/su"))
	if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		t.Errorf("su keeps mode %v", fi.Mode())
	}
	// Canonicalised, the same layers give the same tree, whatever the
	// form of the image.
	if err := local.Canonicalise(out); err != nil {
		t.Fatal(err)
	}
	want, _, err := store.HashPath(nixhash.SHA256, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := ExportDockerArchive(layout, &archive, nil, "test:1"); err != nil {
		t.Fatal(err)
	}
	tarFile := filepath.Join(t.TempDir(), "image.tar")
	os.WriteFile(tarFile, archive.Bytes(), 0o644)
	out2 := filepath.Join(t.TempDir(), "rootfs")
	if _, err := UnpackRootFS(context.Background(), &RootFSSpec{Image: tarFile}, out2); err != nil {
		t.Fatal(err)
	}
	if err := local.Canonicalise(out2); err != nil {
		t.Fatal(err)
	}
	got, _, _ := store.HashPath(nixhash.SHA256, out2, nil)
	if got.String() != want.String() {
		t.Errorf("the Docker archive gives %s, the layout %s:\n%s", got, want, strings.Join(treeListing(t, out2), "\n"))
	}
}

func TestUnpackRootFSErrors(t *testing.T) {
	good := layerTar(t, tentry{"a", tar.TypeReg, 0o644, "a"})
	for name, c := range map[string]struct {
		layout func() string
		want   string
	}{
		"climbs out": {func() string {
			return testLayout(t, RuntimeConfig{}, []string{""}, layerTar(t, tentry{"a/../../evil", tar.TypeReg, 0o644, "x"}))
		}, "climbs out of the root"},
		"diff id": {func() string {
			l := testLayout(t, RuntimeConfig{}, []string{"gzip"}, good)
			// Swap the layer for another one: the diff_id no longer matches.
			lay, _ := OpenLayout(l)
			img, _ := lay.ResolveImage(nil)
			p, _ := lay.BlobPath(img.Manifest.Layers[0].Digest)
			os.WriteFile(p, compress(t, layerTar(t, tentry{"b", tar.TypeReg, 0o644, "b"}), "gzip"), 0o644)
			return l
		}, "diff_id"},
		"platform": {func() string { return testLayout(t, RuntimeConfig{}, []string{""}, good) }, "not linux/arm64"},
		"hard link": {func() string {
			return testLayout(t, RuntimeConfig{}, []string{""}, layerTar(t, tentry{"l", tar.TypeLink, 0, "missing"}))
		}, "hard link target"},
	} {
		t.Run(name, func(t *testing.T) {
			var p *Platform
			if name == "platform" {
				p = &Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
			}
			_, err := UnpackRootFS(context.Background(), &RootFSSpec{Image: c.layout(), Platform: p}, filepath.Join(t.TempDir(), "out"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestRootFSBuiltin runs builtin:oci-rootfs as the realiser would: the
// tree in out, the runtime configuration in config.
func TestRootFSBuiltin(t *testing.T) {
	layout := testLayout(t, RuntimeConfig{Env: []string{"PATH=/usr/bin:/bin", "BAD=a\nb", "LANG=C.UTF-8", "NOT-A-NAME=1"}, User: "nobody"}, []string{"gzip"},
		layerTar(t, tentry{"usr/bin/tool", tar.TypeReg, 0o755, "tool"}))
	dir := t.TempDir()
	outs := map[string]string{"out": filepath.Join(dir, "out"), "config": filepath.Join(dir, "config")}
	err := RootFSBuiltin(&BuildContext{Outputs: outs, Env: map[string]string{"image": layout, "system": "x86_64-linux"}, BuildDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got := treeListing(t, outs["out"]); strings.Join(got, ",") != "usr/,usr/bin/,usr/bin/tool* tool" {
		t.Errorf("tree %v", got)
	}
	env, _ := os.ReadFile(filepath.Join(outs["config"], "env"))
	if string(env) != "PATH=/usr/bin:/bin\nLANG=C.UTF-8\n" {
		t.Errorf("env %q", env)
	}
	var rc RuntimeConfig
	data, _ := os.ReadFile(filepath.Join(outs["config"], "config.json"))
	if err := json.Unmarshal(data, &rc); err != nil || rc.User != "nobody" || len(rc.Env) != 4 {
		t.Errorf("config.json %s: %v", data, err)
	}
	err = RootFSBuiltin(&BuildContext{Outputs: map[string]string{"out": filepath.Join(dir, "arm")}, Env: map[string]string{"image": layout, "system": "aarch64-linux"}})
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("wrong platform: %v", err)
	}
}
