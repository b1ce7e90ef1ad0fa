package image

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAttrs writes .attrs.json as the realiser does for
// __structuredAttrs with exportReferencesGraph.closure.
func writeAttrs(t testing.TB, f *fixture, dir string, attrs map[string]any, roots []string) {
	t.Helper()
	closure, err := ClosureInfo(f.s, roots)
	if err != nil {
		t.Fatal(err)
	}
	var infos []any
	for _, p := range closure {
		infos = append(infos, map[string]any{"path": p.Path, "narSize": p.NarSize, "references": p.References, "narHash": "sha256:x", "closureSize": 0})
	}
	attrs["closure"] = infos
	attrs["exportReferencesGraph"] = map[string]any{"closure": roots}
	data, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".attrs.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBuiltinOCIImage(t *testing.T) {
	f := newFixture(t, "hi")
	var outs []string
	for i := 0; i < 2; i++ {
		buildDir := t.TempDir()
		writeAttrs(t, f, buildDir, map[string]any{
			"name":      "hello-image",
			"imageName": "hello",
			"imageTag":  "v1",
			"system":    "x86_64-linux",
			"contents":  []string{f.app, f.busybox},
			"config": map[string]any{
				"Entrypoint":   []string{f.app + "/bin/hello"},
				"Env":          map[string]string{"PATH": "/bin"},
				"ExposedPorts": []any{8080},
			},
			"created":    DefaultCreated,
			"fromImage":  nil,
			"maxLayers":  100,
			"extraFiles": []map[string]any{{"path": "/etc/hostname", "text": "box\n"}},
		}, []string{f.app, f.busybox})
		out := filepath.Join(t.TempDir(), "out")
		var log bytes.Buffer
		err := Builders["builtin:oci-image"](&BuildContext{
			Outputs:  map[string]string{"out": out},
			Env:      map[string]string{"NIX_ATTRS_JSON_FILE": filepath.Join(buildDir, ".attrs.json")},
			BuildDir: buildDir,
			StoreDir: f.s.Dir(),
			Log:      &log,
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		outs = append(outs, out)
	}
	a, b := treeDigest(t, outs[0]), treeDigest(t, outs[1])
	if a != b {
		t.Error("two builds differ")
	}
	in, err := Inspect(outs[0])
	if err != nil {
		t.Fatal(err)
	}
	img := in.Images[0]
	if img.Platform.String() != "linux/amd64" || len(img.Layers) != 4 || img.Config.Env[0] != "PATH=/bin" {
		t.Fatalf("%+v", img)
	}
	if _, ok := img.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ports %v", img.Config.ExposedPorts)
	}
	// Without the closure the builder explains what it needs.
	buildDir := t.TempDir()
	os.WriteFile(filepath.Join(buildDir, ".attrs.json"), []byte(`{"name":"x","imageName":"x","system":"x86_64-linux"}`), 0o600)
	err = BuildImage(&BuildContext{Outputs: map[string]string{"out": filepath.Join(buildDir, "out")}, BuildDir: buildDir, StoreDir: f.s.Dir()})
	if err == nil || !strings.Contains(err.Error(), "exportReferencesGraph") {
		t.Fatalf("no closure: %v", err)
	}
}

func TestBuiltinOCIIndex(t *testing.T) {
	f := newFixture(t, "hi")
	var images []string
	for _, sys := range []string{"x86_64-linux", "aarch64-linux"} {
		spec := f.spec()
		spec.Platform, _ = PlatformOf(sys)
		out, _ := build(t, spec)
		images = append(images, out)
	}
	buildDir := t.TempDir()
	data, _ := json.Marshal(map[string]any{"name": "hello-index", "imageName": "hello", "imageTag": "multi", "images": images})
	os.WriteFile(filepath.Join(buildDir, ".attrs.json"), data, 0o600)
	out := filepath.Join(t.TempDir(), "out")
	if err := BuildIndexBuiltin(&BuildContext{Outputs: map[string]string{"out": out}, BuildDir: buildDir}); err != nil {
		t.Fatal(err)
	}
	in, err := Inspect(out)
	if err != nil {
		t.Fatal(err)
	}
	if !IsIndex(in.Top) || len(in.Images) != 2 || in.Images[1].Platform.String() != "linux/arm64/v8" {
		t.Fatalf("%+v", in)
	}
}

func TestBuiltinOCIPull(t *testing.T) {
	reg := newTestRegistry(t)
	f := newFixture(t, "hi")
	out, desc := build(t, f.spec())
	if _, err := Push(t.Context(), out, reg.host+"/base/img:1", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digest string
		ok     bool
	}{{desc.Digest, true}, {"sha256:" + strings.Repeat("1", 64), false}} {
		buildDir := t.TempDir()
		data, _ := json.Marshal(map[string]any{"ref": reg.host + "/base/img", "digest": c.digest, "system": "x86_64-linux"})
		os.WriteFile(filepath.Join(buildDir, ".attrs.json"), data, 0o600)
		pulled := filepath.Join(t.TempDir(), "out")
		err := PullBuiltin(&BuildContext{Outputs: map[string]string{"out": pulled}, BuildDir: buildDir})
		if c.ok != (err == nil) {
			t.Fatalf("pull %s: %v", c.digest, err)
		}
		if c.ok {
			l, err := OpenLayout(pulled)
			if err != nil {
				t.Fatal(err)
			}
			if top, _ := l.Top(); top.Digest != desc.Digest {
				t.Errorf("pulled %s", top.Digest)
			}
		}
	}
}
