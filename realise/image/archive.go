package image

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// archiveTime is the modification time of the entries of exported
// archives, so exporting twice gives the same bytes.
var archiveTime = time.Unix(1, 0).UTC()

// ExportOCIArchive writes the layout as an OCI archive: a tar of the
// layout (oci-layout, index.json, blobs), as skopeo's oci-archive:
// transport reads it.
func ExportOCIArchive(layoutDir string, w io.Writer) error {
	l, err := OpenLayout(layoutDir)
	if err != nil {
		return err
	}
	digests, err := reachableBlobs(l)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	a := &archiveWriter{tw: tw, buf: make([]byte, 1<<20)}
	if err := a.layoutFiles(l); err != nil {
		return err
	}
	for _, d := range digests {
		if err := a.blob(l, d); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// ExportDockerArchive writes the image of the layout for platform (nil:
// the only one) in the format of docker save, which docker load and
// podman load read: manifest.json with the configuration and layer
// files, and repositories. The blobs are stored as in the layout
// (blobs/sha256/…), and oci-layout and index.json are there too, as
// docker save writes them since Docker 25. Layers stay compressed;
// docker load decompresses them. repoTag ("name:tag") defaults to the
// name the layout records.
func ExportDockerArchive(layoutDir string, w io.Writer, platform *Platform, repoTag string) error {
	l, err := OpenLayout(layoutDir)
	if err != nil {
		return err
	}
	img, err := l.ResolveImage(platform)
	if err != nil {
		return err
	}
	if repoTag == "" {
		if top, err := l.Top(); err == nil {
			repoTag = top.Annotations[AnnotationImageName]
		}
	}
	entry := dockerArchiveEntry{Config: "blobs/sha256/" + strings.TrimPrefix(img.Manifest.Config.Digest, "sha256:")}
	if repoTag != "" {
		entry.RepoTags = []string{repoTag}
	}
	for _, d := range img.Manifest.Layers {
		entry.Layers = append(entry.Layers, "blobs/sha256/"+strings.TrimPrefix(d.Digest, "sha256:"))
	}
	manifestJSON, err := canonicalJSON([]dockerArchiveEntry{entry})
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	a := &archiveWriter{tw: tw, buf: make([]byte, 1<<20)}
	// index.json of the archive: the image's manifest, so that the
	// archive is also an OCI archive of exactly this image.
	desc := img.Descriptor
	desc.Annotations = map[string]string{}
	if repoTag != "" {
		desc.Annotations[AnnotationImageName] = repoTag
		if i := strings.LastIndexByte(repoTag, ':'); i > 0 && !strings.Contains(repoTag[i:], "/") {
			desc.Annotations[AnnotationRefName] = repoTag[i+1:]
		}
	}
	ixJSON, err := canonicalJSON(Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{desc}})
	if err != nil {
		return err
	}
	if err := a.dir("blobs"); err != nil {
		return err
	}
	if err := a.dir("blobs/sha256"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range append([]Descriptor{img.Descriptor, img.Manifest.Config}, img.Manifest.Layers...) {
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		if err := a.blob(l, d.Digest); err != nil {
			return err
		}
	}
	if err := a.file("index.json", ixJSON); err != nil {
		return err
	}
	if err := a.file("manifest.json", manifestJSON); err != nil {
		return err
	}
	if err := a.file(ociLayoutFile, []byte(ociLayoutVersionJSON)); err != nil {
		return err
	}
	if repoTag != "" {
		if i := strings.LastIndexByte(repoTag, ':'); i > 0 {
			last := img.Config.RootFS.DiffIDs
			if len(last) > 0 {
				repos := map[string]map[string]string{repoTag[:i]: {repoTag[i+1:]: strings.TrimPrefix(last[len(last)-1], "sha256:")}}
				data, err := canonicalJSON(repos)
				if err != nil {
					return err
				}
				if err := a.file("repositories", data); err != nil {
					return err
				}
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

type archiveWriter struct {
	tw  *tar.Writer
	buf []byte
}

func (a *archiveWriter) dir(name string) error {
	return a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: archiveTime})
}

func (a *archiveWriter) file(name string, data []byte) error {
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: archiveTime}); err != nil {
		return err
	}
	_, err := a.tw.Write(data)
	return err
}

func (a *archiveWriter) blob(l *Layout, digest string) error {
	f, err := l.Open(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	name := "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: fi.Size(), ModTime: archiveTime}); err != nil {
		return err
	}
	n, err := io.CopyBuffer(onlyWriter{a.tw}, f, a.buf)
	if err == nil && n != fi.Size() {
		err = fmt.Errorf("%s changed while being read", f.Name())
	}
	return err
}

// layoutFiles writes oci-layout, index.json and the blobs directories.
func (a *archiveWriter) layoutFiles(l *Layout) error {
	data, err := os.ReadFile(filepath.Join(l.Dir, ociLayoutFile))
	if err != nil {
		return err
	}
	if err := a.file(ociLayoutFile, data); err != nil {
		return err
	}
	if data, err = os.ReadFile(filepath.Join(l.Dir, "index.json")); err != nil {
		return err
	}
	if err := a.file("index.json", data); err != nil {
		return err
	}
	if err := a.dir("blobs"); err != nil {
		return err
	}
	return a.dir("blobs/sha256")
}

// reachableBlobs lists the digests of every blob reachable from the
// layout's index.json, manifests first, without repetition.
func reachableBlobs(l *Layout) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(d string) bool {
		if seen[d] {
			return false
		}
		seen[d] = true
		out = append(out, d)
		return true
	}
	var walk func(ds []Descriptor, depth int) error
	walk = func(ds []Descriptor, depth int) error {
		if depth > 4 {
			return fmt.Errorf("%s: indexes nested too deeply", l.Dir)
		}
		for _, d := range ds {
			if !add(d.Digest) {
				continue
			}
			if IsIndex(d) {
				ix, err := l.ReadIndex(d)
				if err != nil {
					return err
				}
				if err := walk(ix.Manifests, depth+1); err != nil {
					return err
				}
				continue
			}
			img, err := l.ReadImage(d)
			if err != nil {
				return err
			}
			add(img.Manifest.Config.Digest)
			for _, layer := range img.Manifest.Layers {
				add(layer.Digest)
			}
		}
		return nil
	}
	if err := walk(l.Index.Manifests, 0); err != nil {
		return nil, err
	}
	return out, nil
}
