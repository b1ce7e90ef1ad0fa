package image

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// baseImage is the image an image is built on (fromImage): its
// configuration and its layers, which are copied as they are.
type baseImage struct {
	config  ConfigFile
	layers  []Descriptor
	diffIDs []string
	// storePaths are the store paths the base's layers hold, as their
	// annotations say (images nixl built).
	storePaths map[string]bool
	// blob returns the file holding a layer blob.
	blob func(d Descriptor) (string, error)
}

// openBase reads a base image: an OCI image layout directory (such as
// image.pull's or image.build's output, or an index, from which the
// image of want is taken), or an OCI archive or Docker archive (docker
// save) tar, which is unpacked into scratch first.
func openBase(src string, want *Platform, scratch string) (*baseImage, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("fromImage: %w", err)
	}
	dir := src
	if !fi.IsDir() {
		dir = filepath.Join(scratch, "from-image")
		if err := unpackArchive(src, dir); err != nil {
			return nil, fmt.Errorf("fromImage '%s': %w", src, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ociLayoutFile)); err == nil {
		return openBaseLayout(dir, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return openDockerArchive(dir, want)
	}
	return nil, fmt.Errorf("fromImage '%s' is neither an OCI image layout nor an OCI or Docker archive", src)
}

func openBaseLayout(dir string, want *Platform) (*baseImage, error) {
	l, err := OpenLayout(dir)
	if err != nil {
		return nil, err
	}
	img, err := l.ResolveImage(want)
	if err != nil {
		return nil, fmt.Errorf("fromImage: %w", err)
	}
	b := &baseImage{config: img.Config, diffIDs: img.Config.RootFS.DiffIDs, blob: func(d Descriptor) (string, error) { return l.BlobPath(d.Digest) }}
	for _, d := range img.Manifest.Layers {
		switch normalizeMediaType(d.MediaType) {
		case MediaTypeLayer, MediaTypeLayerGzip, MediaTypeLayerZstd:
		default:
			return nil, fmt.Errorf("fromImage: layer %s has the unsupported media type '%s'", d.Digest, d.MediaType)
		}
		b.layers = append(b.layers, Descriptor{MediaType: normalizeMediaType(d.MediaType), Digest: d.Digest, Size: d.Size})
		for _, p := range strings.Fields(d.Annotations[AnnotationStorePaths]) {
			if b.storePaths == nil {
				b.storePaths = map[string]bool{}
			}
			b.storePaths[p] = true
		}
	}
	return b, nil
}

// dockerArchiveEntry is an entry of a Docker archive's manifest.json.
type dockerArchiveEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

func openDockerArchive(dir string, want *Platform) (*baseImage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var entries []dockerArchiveEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("fromImage: manifest.json: %w", err)
	}
	if len(entries) != 1 {
		return nil, fmt.Errorf("fromImage: the Docker archive holds %d images, expected one", len(entries))
	}
	e := entries[0]
	inside := func(name string) (string, error) {
		clean := path.Clean(name)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", fmt.Errorf("fromImage: manifest.json names '%s', outside the archive", name)
		}
		return filepath.Join(dir, filepath.FromSlash(clean)), nil
	}
	cfgPath, err := inside(e.Config)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	b := &baseImage{}
	if err := json.Unmarshal(raw, &b.config); err != nil {
		return nil, fmt.Errorf("fromImage: %s: %w", e.Config, err)
	}
	if len(b.config.RootFS.DiffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("fromImage: %d layers but %d diff_ids", len(e.Layers), len(b.config.RootFS.DiffIDs))
	}
	p := &Platform{OS: b.config.OS, Architecture: b.config.Architecture, Variant: b.config.Variant}
	if !platformMatches(p, want) {
		return nil, fmt.Errorf("fromImage is an image for %s, not %s", p, want)
	}
	b.diffIDs = b.config.RootFS.DiffIDs
	files := map[string]string{}
	for _, name := range e.Layers {
		file, err := inside(name)
		if err != nil {
			return nil, err
		}
		d, size, gz, err := fileDigest(file)
		if err != nil {
			return nil, err
		}
		mt := MediaTypeLayer
		if gz {
			mt = MediaTypeLayerGzip
		}
		files[d] = file
		b.layers = append(b.layers, Descriptor{MediaType: mt, Digest: d, Size: size})
	}
	b.blob = func(d Descriptor) (string, error) { return files[d.Digest], nil }
	return b, nil
}

// fileDigest hashes a file and reports whether it is gzip-compressed.
func fileDigest(file string) (digest string, size int64, gz bool, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(2)
	gz = len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	h := newCountingHash()
	if _, err := io.Copy(h, br); err != nil {
		return "", 0, false, err
	}
	return h.digest(), h.n, gz, nil
}

// unpackArchive extracts the regular files and directories of a tar
// (an OCI or Docker archive) into dir, refusing names outside it.
func unpackArchive(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		clean := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if clean == "." {
			continue
		}
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("entry '%s' is outside the archive", h.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			// docker save links identical layers; resolve within the archive.
			target := path.Join(path.Dir(clean), h.Linkname)
			if path.IsAbs(h.Linkname) || target == ".." || strings.HasPrefix(target, "../") {
				return fmt.Errorf("entry '%s' links outside the archive", h.Name)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
		}
	}
}
