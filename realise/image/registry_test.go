package image

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// testRegistry is an in-process registry on 127.0.0.1 that counts the
// blob uploads it receives.
type testRegistry struct {
	srv  *httptest.Server
	host string
	mu   sync.Mutex
	// uploads counts blob upload sessions started (POST
	// /v2/…/blobs/uploads/), mounts excluded.
	uploads   int
	manifests int
}

func newTestRegistry(t testing.TB) *testRegistry {
	r := &testRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		if req.Method == http.MethodPost && strings.Contains(req.URL.Path, "/blobs/uploads/") && req.URL.Query().Get("mount") == "" {
			r.uploads++
		}
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") {
			r.manifests++
		}
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	if !strings.HasPrefix(r.host, "127.0.0.1:") {
		t.Fatalf("registry listens on %s, not loopback", r.host)
	}
	return r
}

func (r *testRegistry) counts() (uploads, manifests int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uploads, r.manifests
}

func TestPushPull(t *testing.T) {
	reg := newTestRegistry(t)
	f := newFixture(t, "hi")
	out, desc := build(t, f.spec())
	ref := reg.host + "/test/hello:v1"
	ctx := context.Background()

	d, err := Push(ctx, out, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d != desc.Digest {
		t.Fatalf("pushed %s, built %s", d, desc.Digest)
	}
	up, _ := reg.counts()
	if up != 5 { // 4 layers and the configuration
		t.Errorf("%d blob uploads, want 5", up)
	}

	// Unchanged: no blob is uploaded again.
	if _, err := Push(ctx, out, ref, nil); err != nil {
		t.Fatal(err)
	}
	if up2, _ := reg.counts(); up2 != up {
		t.Errorf("second push uploaded %d blobs", up2-up)
	}

	// A rebuild with a changed app uploads its layer, the customisation
	// layer and the configuration only.
	g := fillFixture(t, f.s, "changed")
	out2, _ := build(t, g.spec())
	if _, err := Push(ctx, out2, ref, nil); err != nil {
		t.Fatal(err)
	}
	if up3, _ := reg.counts(); up3-up != 3 {
		t.Errorf("push of a rebuilt image uploaded %d blobs, want 3", up3-up)
	}

	// Pull it back by digest.
	pulled := filepath.Join(t.TempDir(), "pulled")
	pd, err := Pull(ctx, &PullSpec{Ref: reg.host + "/test/hello", Digest: desc.Digest, Platform: &Platform{OS: "linux", Architecture: "amd64"}}, pulled)
	if err != nil {
		t.Fatal(err)
	}
	if pd.Digest != desc.Digest {
		t.Fatalf("pulled %s, want %s", pd.Digest, desc.Digest)
	}
	for _, layout := range []string{out, pulled} {
		l, err := OpenLayout(layout)
		if err != nil {
			t.Fatal(err)
		}
		img, err := l.ResolveImage(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ld := range img.Manifest.Layers {
			p, _ := l.BlobPath(ld.Digest)
			if got := fileDigestT(t, p); got != ld.Digest {
				t.Errorf("%s: blob %s has digest %s", layout, ld.Digest, got)
			}
		}
	}
	// Pulling twice gives the same layout (it is a fixed-output
	// derivation's output).
	pulled2 := filepath.Join(t.TempDir(), "pulled")
	if _, err := Pull(ctx, &PullSpec{Ref: reg.host + "/test/hello:whatever", Digest: desc.Digest}, pulled2); err != nil {
		t.Fatal(err)
	}
	if a, b := treeDigest(t, pulled), treeDigest(t, pulled2); a != b {
		t.Errorf("two pulls differ")
	}

	// The pulled image is a base image.
	spec := g.spec()
	spec.FromImage = pulled
	spec.Closure = nil
	spec.Contents = nil
	if _, err := Build(ctx, spec, filepath.Join(t.TempDir(), "derived")); err != nil {
		t.Fatal(err)
	}

	// A wrong digest fails and leaves no layout.
	bad := "sha256:" + strings.Repeat("0", 64)
	wrong := filepath.Join(t.TempDir(), "wrong")
	if _, err := Pull(ctx, &PullSpec{Ref: reg.host + "/test/hello", Digest: bad}, wrong); err == nil {
		t.Fatal("pulling a wrong digest succeeded")
	}
	if _, err := os.Stat(filepath.Join(wrong, "index.json")); err == nil {
		t.Error("a failed pull wrote index.json")
	}
}

// treeDigest hashes the files of a directory, with their names.
func treeDigest(t testing.TB, dir string) string {
	h := newCountingHash()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		io.WriteString(h, rel+"\n")
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(data)
		}
		return nil
	})
	return h.digest()
}

func TestPushIndex(t *testing.T) {
	reg := newTestRegistry(t)
	f := newFixture(t, "hi")
	var images []string
	for _, sys := range []string{"x86_64-linux", "aarch64-linux"} {
		spec := f.spec()
		p, _ := PlatformOf(sys)
		spec.Platform = p
		out, _ := build(t, spec)
		images = append(images, out)
	}
	out := filepath.Join(t.TempDir(), "index")
	desc, err := BuildIndex(&IndexSpec{Name: "hello", Images: images}, out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Push(context.Background(), out, reg.host+"/test/multi:latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d != desc.Digest {
		t.Fatalf("pushed %s, built %s", d, desc.Digest)
	}
	// Pull the arm64 image out of the index.
	pulled := filepath.Join(t.TempDir(), "pulled")
	pd, err := Pull(context.Background(), &PullSpec{Ref: reg.host + "/test/multi", Digest: desc.Digest, Platform: &Platform{OS: "linux", Architecture: "arm64"}}, pulled)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := OpenLayout(out)
	want, _ := l.ResolveImage(&Platform{OS: "linux", Architecture: "arm64"})
	if pd.Digest != want.Descriptor.Digest {
		t.Fatalf("pulled %s, want %s", pd.Digest, want.Descriptor.Digest)
	}
}
