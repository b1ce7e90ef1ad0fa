package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/nixl-project/nixl/realise/image"
)

func runImage(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := c.main(append([]string{"image"}, args...))
	return code, stdout.String(), stderr.String()
}

// testImageLayout builds a small image of two fake store paths.
func testImageLayout(t *testing.T) (layout, storePath string, desc image.Descriptor) {
	t.Helper()
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	lib := filepath.Join(storeDir, strings.Repeat("a", 32)+"-lib")
	app := filepath.Join(storeDir, strings.Repeat("b", 32)+"-app")
	for p, files := range map[string]map[string]string{
		lib: {"lib/data": "library\n"},
		app: {"bin/app": "#!/bin/sh\necho app\n"},
	} {
		for name, text := range files {
			full := filepath.Join(p, name)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(text), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	layout = filepath.Join(dir, "result")
	desc, err := image.Build(context.Background(), &image.Spec{
		Name:     "cli-test",
		Tag:      "v2",
		StoreDir: storeDir,
		Contents: []string{app},
		Closure:  []image.PathInfo{{Path: app, References: []string{lib}}, {Path: lib}},
		Config:   image.RuntimeConfig{Entrypoint: []string{app + "/bin/app"}, Env: []string{"A=1"}},
		Platform: image.Platform{OS: "linux", Architecture: "amd64"},
	}, layout)
	if err != nil {
		t.Fatal(err)
	}
	return layout, app, desc
}

func TestImageInspect(t *testing.T) {
	layout, app, desc := testImageLayout(t)
	code, out, errOut := runImage(t, "inspect", layout)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name:     cli-test:v2", desc.Digest, "platform: linux/amd64", "Entrypoint: [\"" + app + "/bin/app\"]", "Env:        A=1", "layers:   3", app, "customisation"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runImage(t, "inspect", "--json", layout)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var in image.Inspection
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	if in.Top.Digest != desc.Digest || len(in.Images) != 1 || in.Images[0].Layers[1].StorePaths[0] != app {
		t.Errorf("inspect --json: %+v", in)
	}
	if code, _, errOut := runImage(t, "inspect", t.TempDir()); code == 0 || !strings.Contains(errOut, "not an OCI image layout") {
		t.Errorf("inspect of a non-layout: %d %s", code, errOut)
	}
}

func TestImageExport(t *testing.T) {
	layout, _, desc := testImageLayout(t)
	dir := t.TempDir()
	oci := filepath.Join(dir, "img.tar")
	docker := filepath.Join(dir, "img-docker.tar")
	if code, _, errOut := runImage(t, "export", layout, "--format", "oci-archive", "-o", oci); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := runImage(t, "export", layout, "--format", "docker-archive", "-o", docker, "--tag", "renamed:x"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := runImage(t, "export", layout, "--format", "zip", "-o", oci); code == 0 || !strings.Contains(errOut, "unknown format") {
		t.Errorf("bad format: %d %s", code, errOut)
	}
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo is not installed")
	}
	out, err := exec.Command(skopeo, "inspect", "--raw", "oci-archive:"+oci).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256Digest(out); got != desc.Digest {
		t.Errorf("oci-archive digest %s, want %s", got, desc.Digest)
	}
	out, err = exec.Command(skopeo, "inspect", "docker-archive:"+docker).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m := dockerManifest(t, docker); !strings.Contains(m, `"RepoTags":["renamed:x"]`) {
		t.Errorf("docker-archive manifest.json: %s", m)
	}
}

// dockerManifest returns the manifest.json of a Docker archive.
func dockerManifest(t *testing.T, archive string) string {
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no manifest.json: %v", err)
		}
		if h.Name == "manifest.json" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
}

func sha256Digest(data []byte) string {
	d, _ := image.DigestOf(bytes.NewReader(data))
	return d
}

func TestImagePush(t *testing.T) {
	layout, _, desc := testImageLayout(t)
	var uploads atomic.Int32
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			uploads.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/cli/test:v2"
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	code, out, errOut := runImage(t, "push", layout, ref)
	if code != 0 {
		t.Fatalf("push: %s", errOut)
	}
	if want := strings.TrimSuffix(ref, ":v2") + "@" + desc.Digest + "\n"; out != want {
		t.Errorf("push printed %q, want %q", out, want)
	}
	first := uploads.Load()
	if first != 4 {
		t.Errorf("%d blob uploads, want 4", first)
	}
	if code, _, errOut := runImage(t, "push", layout, ref); code != 0 {
		t.Fatalf("second push: %s", errOut)
	}
	if n := uploads.Load(); n != first {
		t.Errorf("second push uploaded %d blobs", n-first)
	}
}
