package image

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The layout is read by other implementations: skopeo (containers/image)
// and umoci, which unpacks it into a root file system in which the
// image's program runs.
func TestSkopeoAndUmoci(t *testing.T) {
	skopeo := needTool(t, "skopeo")
	umoci := needTool(t, "umoci")
	f := newFixture(t, "hi from the image")
	out, desc := build(t, f.spec())

	var inspected struct {
		Digest       string
		Architecture string
		Os           string
		Layers       []string
	}
	raw := run(t, skopeo, "inspect", "oci:"+out+":v1")
	if err := json.Unmarshal([]byte(raw), &inspected); err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, raw)
	}
	if inspected.Digest != desc.Digest || inspected.Architecture != "amd64" || inspected.Os != "linux" || len(inspected.Layers) != 4 {
		t.Fatalf("skopeo inspect: %+v", inspected)
	}
	run(t, skopeo, "inspect", "--config", "oci:"+out+":v1")

	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, umoci, "unpack", "--rootless", "--image", out+":v1", bundle)
	t.Cleanup(func() { makeWritable(bundle) })
	rootfs := filepath.Join(bundle, "rootfs")
	for _, p := range f.closure {
		if _, err := os.Lstat(filepath.Join(rootfs, p.Path)); err != nil {
			t.Errorf("rootfs lacks %s: %v", p.Path, err)
		}
	}
	target, err := os.Readlink(filepath.Join(rootfs, "bin", "hello"))
	if err != nil || target != f.app+"/bin/hello" {
		t.Errorf("/bin/hello → %s (%v)", target, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	cmd := exec.Command("chroot", rootfs, f.busybox+"/bin/busybox", "echo", "hi")
	got, err := cmd.CombinedOutput()
	if err != nil || string(got) != "hi\n" {
		t.Fatalf("chroot busybox echo hi: %q %v", got, err)
	}
	// The entrypoint: a script run by the image's shell, reading the
	// library through its store path.
	cmd = exec.Command("chroot", rootfs, "/bin/hello")
	got, err = cmd.CombinedOutput()
	if err != nil || string(got) != "hello from the library\nhi from the image\n" {
		t.Fatalf("chroot /bin/hello: %q %v", got, err)
	}
}

// makeWritable lets t.TempDir's clean-up remove read-only store trees.
func makeWritable(dir string) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

func TestExportArchives(t *testing.T) {
	skopeo := needTool(t, "skopeo")
	f := newFixture(t, "hi")
	out, desc := build(t, f.spec())
	dir := t.TempDir()

	ociFile := filepath.Join(dir, "image.oci.tar")
	writeWith(t, ociFile, func(w *os.File) error { return ExportOCIArchive(out, w) })
	raw := run(t, skopeo, "inspect", "--raw", "oci-archive:"+ociFile)
	if digestOf([]byte(raw)) != desc.Digest {
		t.Errorf("oci-archive manifest digest %s, want %s", digestOf([]byte(raw)), desc.Digest)
	}
	// Exporting twice gives the same bytes.
	again := filepath.Join(dir, "again.tar")
	writeWith(t, again, func(w *os.File) error { return ExportOCIArchive(out, w) })
	if a, b := fileDigestT(t, ociFile), fileDigestT(t, again); a != b {
		t.Errorf("two exports differ: %s %s", a, b)
	}

	dockerFile := filepath.Join(dir, "image.docker.tar")
	writeWith(t, dockerFile, func(w *os.File) error { return ExportDockerArchive(out, w, nil, "") })
	// manifest.json as docker load reads it.
	unpacked := filepath.Join(dir, "docker")
	if err := unpackArchive(dockerFile, unpacked); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(unpacked, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(data, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("manifest.json: %s (%v)", data, err)
	}
	if tags, _ := entries[0]["RepoTags"].([]any); len(tags) != 1 || tags[0] != "hello:v1" {
		t.Errorf("RepoTags %v", entries[0]["RepoTags"])
	}
	if layers, _ := entries[0]["Layers"].([]any); len(layers) != 4 {
		t.Errorf("Layers %v", entries[0]["Layers"])
	}
	for _, k := range []string{"Config", "Layers"} {
		if _, ok := entries[0][k]; !ok {
			t.Errorf("manifest.json lacks %s", k)
		}
	}
	var info struct {
		Digest string
		Layers []string
	}
	raw = run(t, skopeo, "inspect", "docker-archive:"+dockerFile)
	if err := json.Unmarshal([]byte(raw), &info); err != nil || len(info.Layers) != 4 {
		t.Fatalf("skopeo inspect docker-archive: %s (%v)", raw, err)
	}
	// containers/image recompresses nothing it can copy: an OCI copy of
	// the Docker archive has the same layers.
	copied := filepath.Join(dir, "copied")
	run(t, skopeo, "copy", "docker-archive:"+dockerFile, "oci:"+copied+":x")
	l, err := OpenLayout(copied)
	if err != nil {
		t.Fatal(err)
	}
	img, err := l.ResolveImage(nil)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := OpenLayout(out)
	oimg, _ := orig.ResolveImage(nil)
	if !equalStrings(img.Config.RootFS.DiffIDs, oimg.Config.RootFS.DiffIDs) {
		t.Errorf("diff ids after skopeo copy: %v, want %v", img.Config.RootFS.DiffIDs, oimg.Config.RootFS.DiffIDs)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func writeWith(t testing.TB, path string, fn func(w *os.File) error) {
	t.Helper()
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileDigestT(t testing.TB, path string) string {
	d, _, _, err := fileDigest(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFromImage(t *testing.T) {
	f := newFixture(t, "hi")
	baseSpec := &Spec{
		Name: "base", StoreDir: f.s.Dir(), Contents: []string{f.busybox},
		Closure:  mustClosure(t, f, f.busybox),
		Config:   RuntimeConfig{Env: []string{"PATH=/bin", "LANG=C"}, Cmd: []string{"/bin/sh"}, Labels: map[string]string{"base": "yes"}},
		Platform: Platform{OS: "linux", Architecture: "amd64"},
	}
	baseOut, _ := build(t, baseSpec)
	dir := t.TempDir()
	dockerFile := filepath.Join(dir, "base.docker.tar")
	writeWith(t, dockerFile, func(w *os.File) error { return ExportDockerArchive(baseOut, w, nil, "") })
	ociFile := filepath.Join(dir, "base.oci.tar")
	writeWith(t, ociFile, func(w *os.File) error { return ExportOCIArchive(baseOut, w) })

	var digests []string
	for _, from := range []string{baseOut, dockerFile, ociFile} {
		spec := &Spec{
			Name: "app", StoreDir: f.s.Dir(), Contents: []string{f.app},
			Closure:   mustClosure(t, f, f.app, f.lib),
			Config:    RuntimeConfig{Env: []string{"PATH=/bin:/usr/bin"}, Entrypoint: []string{"/bin/hello"}},
			Platform:  Platform{OS: "linux", Architecture: "amd64"},
			FromImage: from,
		}
		out, desc := build(t, spec)
		digests = append(digests, desc.Digest)
		l, _ := OpenLayout(out)
		img, err := l.ResolveImage(nil)
		if err != nil {
			t.Fatal(err)
		}
		// Base: busybox + customisation; ours: lib, app + customisation
		// (busybox, in our closure too, is in the base already).
		kinds := []string{}
		for _, ld := range img.Manifest.Layers {
			kinds = append(kinds, ld.Annotations[AnnotationLayerKind])
		}
		if strings.Join(kinds, ",") != "base,base,store,store,customisation" {
			t.Errorf("%s: layers %v", from, kinds)
		}
		c := img.Config.Config
		if !equalStrings(c.Env, []string{"PATH=/bin:/usr/bin", "LANG=C"}) || c.Cmd != nil || c.Labels["base"] != "yes" || c.Entrypoint[0] != "/bin/hello" {
			t.Errorf("%s: merged config %+v", from, c)
		}
		if len(img.Config.History) != 5 {
			t.Errorf("%s: history %+v", from, img.Config.History)
		}
	}
	if digests[0] != digests[2] {
		t.Errorf("from a layout and from its OCI archive: %s, %s", digests[0], digests[2])
	}
	// Base layers count against maxLayers.
	spec := &Spec{Name: "app", StoreDir: f.s.Dir(), Closure: mustClosure(t, f, f.app), Platform: Platform{OS: "linux", Architecture: "amd64"}, FromImage: baseOut, MaxLayers: 3}
	if _, err := Build(t.Context(), spec, filepath.Join(dir, "x")); err == nil || !strings.Contains(err.Error(), "maxLayers") {
		t.Fatalf("maxLayers 3 with 2 base layers: %v", err)
	}
	spec.MaxLayers = 4
	out, _ := build(t, spec)
	l, _ := OpenLayout(out)
	img, _ := l.ResolveImage(nil)
	if len(img.Manifest.Layers) != 4 {
		t.Errorf("%d layers with maxLayers 4", len(img.Manifest.Layers))
	}
	// A base for another platform is refused.
	spec.Platform = Platform{OS: "linux", Architecture: "arm64"}
	if _, err := Build(t.Context(), spec, filepath.Join(dir, "y")); err == nil || !strings.Contains(err.Error(), "linux/amd64") {
		t.Fatalf("platform mismatch: %v", err)
	}
}

func mustClosure(t testing.TB, f *fixture, roots ...string) []PathInfo {
	c, err := ClosureInfo(f.s, roots)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIndex(t *testing.T) {
	skopeo := needTool(t, "skopeo")
	f := newFixture(t, "hi")
	var images []string
	for _, p := range []Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		spec := f.spec()
		spec.Platform = p
		out, _ := build(t, spec)
		images = append(images, out)
	}
	out := filepath.Join(t.TempDir(), "index")
	desc, err := BuildIndex(&IndexSpec{Name: "hello", Tag: "multi", Images: images}, out)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenLayout(out)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := l.ReadIndex(desc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Manifests) != 2 || ix.Manifests[0].Platform.String() != "linux/amd64" || ix.Manifests[1].Platform.String() != "linux/arm64/v8" {
		t.Fatalf("index %+v", ix)
	}
	img, err := l.ResolveImage(&Platform{OS: "linux", Architecture: "arm64"})
	if err != nil || img.Config.Architecture != "arm64" {
		t.Fatalf("arm64 image: %v", err)
	}
	raw := run(t, skopeo, "inspect", "--raw", "oci:"+out+":multi")
	if digestOf([]byte(raw)) != desc.Digest {
		t.Errorf("skopeo's raw index has digest %s, want %s", digestOf([]byte(raw)), desc.Digest)
	}
	run(t, skopeo, "inspect", "--override-arch", "arm64", "oci:"+out+":multi")
	if _, err := BuildIndex(&IndexSpec{Images: []string{images[0], images[0]}}, filepath.Join(t.TempDir(), "dup")); err == nil {
		t.Error("two images for one platform accepted")
	}
}
