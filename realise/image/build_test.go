package image

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuildLayout(t *testing.T) {
	f := newFixture(t, "hi")
	spec := f.spec()
	spec.ExtraFiles = []ExtraFile{
		{Path: "/etc/passwd", Text: ptr("root:x:0:0::/root:/bin/sh\n")},
		{Path: "/tmp", Type: "directory", Mode: "1777"},
		{Path: "/usr/bin/env", Type: "symlink", Target: f.busybox + "/bin/busybox"},
	}
	out, desc := build(t, spec)
	l, err := OpenLayout(out)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Annotations[AnnotationRefName] != "v1" || desc.Annotations[AnnotationImageName] != "hello:v1" {
		t.Errorf("annotations %v", desc.Annotations)
	}
	img, err := l.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	if img.Descriptor.Digest != desc.Digest {
		t.Fatalf("digest %s, index.json says %s", desc.Digest, img.Descriptor.Digest)
	}
	// Three store paths, one layer each, and the customisation layer.
	if n := len(img.Manifest.Layers); n != 4 {
		t.Fatalf("%d layers", n)
	}
	// busybox and lib are reached by app and themselves: popularity 2;
	// app only by itself: 1, so it comes last.
	var got []string
	for _, ld := range img.Manifest.Layers[:3] {
		got = append(got, ld.Annotations[AnnotationStorePaths])
	}
	if want := []string{f.busybox, f.lib, f.app}; !reflect.DeepEqual(got, want) {
		t.Errorf("layer order %v, want %v", got, want)
	}
	if img.Config.Architecture != "amd64" || img.Config.OS != "linux" || img.Config.Created != DefaultCreated {
		t.Errorf("config %+v", img.Config)
	}
	if !reflect.DeepEqual(img.Config.Config.Entrypoint, []string{f.app + "/bin/hello"}) {
		t.Errorf("entrypoint %v", img.Config.Config.Entrypoint)
	}

	// The app's layer: ancestors of the store directory, then the path.
	app := tarEntries(t, l, img.Manifest.Layers[2].Digest)
	rel := strings.TrimPrefix(f.app, "/")
	for _, name := range append(ancestors(f.s.Dir()), rel, rel+"/bin/hello", rel+"/share/doc/hello/README") {
		if app[name] == nil {
			t.Errorf("app layer lacks %s; it has %v", name, sortedNames(app))
		}
	}
	if h := app[rel+"/bin/hello"]; h != nil && (h.Mode != 0o555 || h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 1 || h.Uname != "") {
		t.Errorf("bin/hello header %+v", h)
	}
	if h := app[rel+"/share/doc/hello/README"]; h != nil && h.Mode != 0o444 {
		t.Errorf("README mode %o", h.Mode)
	}
	if h := app[rel]; h != nil && h.Mode != 0o555 {
		t.Errorf("store path mode %o", h.Mode)
	}

	// The customisation layer.
	top := tarEntries(t, l, img.Manifest.Layers[3].Digest)
	wantLinks := map[string]string{
		"bin/hello":   f.app + "/bin/hello",
		"bin/busybox": f.busybox + "/bin/busybox",
		"bin/sh":      f.busybox + "/bin/sh",
		"share/doc":   f.app + "/share/doc",
		"usr/bin/env": f.busybox + "/bin/busybox",
	}
	for name, target := range wantLinks {
		h := top[name]
		if h == nil || h.Linkname != target {
			t.Errorf("customisation layer: %s is %+v, want a link to %s", name, h, target)
		}
	}
	if h := top["bin"]; h == nil || h.Typeflag != '5' || h.Mode != 0o755 {
		t.Errorf("/bin: %+v", h)
	}
	if h := top["share"]; h == nil || h.Typeflag != '5' {
		t.Errorf("/share: %+v", h)
	}
	if h := top["tmp"]; h == nil || h.Typeflag != '5' || h.Mode != 0o1777 {
		t.Errorf("/tmp: %+v", h)
	}
	if h := top["etc/passwd"]; h == nil || h.Size == 0 || h.Mode != 0o644 {
		t.Errorf("/etc/passwd: %+v", h)
	}
	// lib is not among the contents: no links to it.
	for name, h := range top {
		if strings.HasPrefix(h.Linkname, f.lib) {
			t.Errorf("unexpected link %s → %s", name, h.Linkname)
		}
	}

	in, err := Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "hello" || in.Tag != "v1" || len(in.Images) != 1 || len(in.Images[0].Layers) != 4 {
		t.Fatalf("inspect: %+v", in)
	}
	if l := in.Images[0].Layers[2]; l.Kind != "store" || !reflect.DeepEqual(l.StorePaths, []string{f.app}) {
		t.Errorf("inspect layer 3: %+v", l)
	}
	if l := in.Images[0].Layers[3]; l.Kind != "customisation" || len(l.StorePaths) != 0 {
		t.Errorf("inspect layer 4: %+v", l)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDigestStability(t *testing.T) {
	f := newFixture(t, "hi")
	_, d1 := build(t, f.spec())
	_, d2 := build(t, f.spec())
	if d1.Digest != d2.Digest {
		t.Fatalf("two builds: %s and %s", d1.Digest, d2.Digest)
	}
	// A new store (the old one wiped) with the same paths.
	g := newFixture(t, "hi")
	spec := g.spec()
	if g.app == f.app {
		t.Fatal("the two stores share a directory")
	}
	// The stores' directories differ, so the paths do; rebuild g in a
	// store at f's location instead.
	os.RemoveAll(filepath.Dir(f.s.Dir()))
	f.s.Close()
	s := reopenAt(t, filepath.Dir(f.s.Dir()))
	h := fillFixture(t, s, "hi")
	if h.app != f.app {
		t.Fatalf("paths changed: %s, %s", h.app, f.app)
	}
	_, d3 := build(t, h.spec())
	if d3.Digest != d1.Digest {
		t.Fatalf("after wiping the store: %s, before %s", d3.Digest, d1.Digest)
	}
	_ = spec
}

func TestChangedLeafChangesOnlyItsLayer(t *testing.T) {
	dir := t.TempDir()
	s := reopenAt(t, dir)
	f := fillFixture(t, s, "one")
	out1, _ := build(t, f.spec())
	g := fillFixture(t, s, "two")
	if g.app == f.app || g.lib != f.lib || g.busybox != f.busybox {
		t.Fatal("fixture: only the app should change")
	}
	out2, _ := build(t, g.spec())
	l1, _ := OpenLayout(out1)
	l2, _ := OpenLayout(out2)
	i1, err := l1.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	i2, err := l2.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(i1.Manifest.Layers) != len(i2.Manifest.Layers) {
		t.Fatalf("%d and %d layers", len(i1.Manifest.Layers), len(i2.Manifest.Layers))
	}
	var changed []int
	for i := range i1.Manifest.Layers {
		if i1.Manifest.Layers[i].Digest != i2.Manifest.Layers[i].Digest {
			changed = append(changed, i)
		}
	}
	// The app's layer (third) and the customisation layer (its links
	// point to the new app).
	if !reflect.DeepEqual(changed, []int{2, 3}) {
		t.Fatalf("changed layers %v, want [2 3]", changed)
	}
}

func reopenAt(t testing.TB, dir string) *localStore {
	t.Helper()
	s, err := openLocal(filepath.Join(dir, "store"), filepath.Join(dir, "var"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestGroupLayers(t *testing.T) {
	// A chain a → b → c → d plus e → d: d is reached by all five.
	sd := "/nix/store/"
	p := func(h, n string) string { return sd + strings.Repeat(h, 32) + "-" + n }
	a, b, c, d, e := p("a", "a"), p("b", "b"), p("c", "c"), p("d", "d"), p("e", "e")
	closure := []PathInfo{
		{Path: a, References: []string{b, a}},
		{Path: b, References: []string{c}},
		{Path: c, References: []string{d}},
		{Path: d},
		{Path: e, References: []string{d}},
	}
	pop, err := Popularity(closure)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{a: 1, b: 2, c: 3, d: 5, e: 1}; !reflect.DeepEqual(pop, want) {
		t.Fatalf("popularity %v, want %v", pop, want)
	}
	g, err := GroupLayers(closure, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{d}, {c}, {b}, {a}, {e}}; !reflect.DeepEqual(g, want) {
		t.Fatalf("groups %v, want %v", g, want)
	}
	g, err = GroupLayers(closure, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{d}, {c}, {a, b, e}}; !reflect.DeepEqual(g, want) {
		t.Fatalf("groups %v, want %v", g, want)
	}
	if _, err := GroupLayers(closure[:1], 3); err == nil || !strings.Contains(err.Error(), "not in the closure") {
		t.Fatalf("incomplete closure: %v", err)
	}
}

func TestMaxLayers(t *testing.T) {
	f := newFixture(t, "hi")
	spec := f.spec()
	spec.MaxLayers = 3
	out, _ := build(t, spec)
	l, _ := OpenLayout(out)
	img, err := l.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Manifest.Layers) != 3 {
		t.Fatalf("%d layers", len(img.Manifest.Layers))
	}
	if got := img.Manifest.Layers[1].Annotations[AnnotationStorePaths]; got != strings.Join(sortedStrings(f.lib, f.app), " ") {
		t.Errorf("shared layer holds %q", got)
	}
	spec.MaxLayers = 1
	if _, err := Build(context.Background(), spec, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "maxLayers") {
		t.Fatalf("maxLayers 1: %v", err)
	}
}

func sortedStrings(s ...string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestUncompressed(t *testing.T) {
	f := newFixture(t, "hi")
	spec := f.spec()
	spec.Compression = CompressionNone
	out, _ := build(t, spec)
	l, _ := OpenLayout(out)
	img, err := l.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, ld := range img.Manifest.Layers {
		if ld.MediaType != MediaTypeLayer || ld.Digest != img.Config.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: %+v, diff id %s", i, ld, img.Config.RootFS.DiffIDs[i])
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"Entrypoint":"/bin/sh","Cmd":["-c","echo"],"Env":{"B":"2","A":"1"},"ExposedPorts":[80,"53/udp"],"Volumes":{"/data":{}},"Labels":{"a":"b"},"WorkingDir":"/w","User":"1000:1000"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := RuntimeConfig{
		Entrypoint:   []string{"/bin/sh"},
		Cmd:          []string{"-c", "echo"},
		Env:          []string{"A=1", "B=2"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		Labels:       map[string]string{"a": "b"},
		WorkingDir:   "/w",
		User:         "1000:1000",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if _, err := ParseConfig([]byte(`{"Entrypiont":[]}`)); err == nil || !strings.Contains(err.Error(), "unknown attribute 'Entrypiont'") {
		t.Fatalf("typo: %v", err)
	}
	data, _ := json.Marshal(c)
	if !strings.Contains(string(data), `"ExposedPorts":{"53/udp":{},"80/tcp":{}}`) {
		t.Errorf("marshalled %s", data)
	}
}

func TestPlatformOf(t *testing.T) {
	for sys, want := range map[string]string{
		"x86_64-linux":  "linux/amd64",
		"aarch64-linux": "linux/arm64/v8",
		"armv7l-linux":  "linux/arm/v7",
		"i686-linux":    "linux/386",
		"riscv64-linux": "linux/riscv64",
	} {
		p, err := PlatformOf(sys)
		if err != nil || p.String() != want {
			t.Errorf("%s: %s %v, want %s", sys, p.String(), err, want)
		}
	}
	if _, err := PlatformOf("x86_64-plan9"); err == nil {
		t.Error("plan9 accepted")
	}
}

func TestNames(t *testing.T) {
	for _, ok := range []string{"hello", "ghcr.io/me/hello", "localhost:5000/a/b", "a_b.c-d"} {
		if err := checkRepoName(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"Hello", "a//b", "-a", "a:b"} {
		if err := checkRepoName(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
