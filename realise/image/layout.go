package image

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Layout is an OCI image layout directory: the output of image.build,
// image.index and image.pull.
type Layout struct {
	Dir   string
	Index Index
}

// OpenLayout reads the index.json of an OCI image layout (a symbolic
// link to one, such as a result link, is followed).
func OpenLayout(dir string) (*Layout, error) {
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	data, err := os.ReadFile(filepath.Join(dir, ociLayoutFile))
	if err != nil {
		return nil, fmt.Errorf("'%s' is not an OCI image layout: %w", dir, err)
	}
	var marker struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(data, &marker); err != nil || marker.Version == "" {
		return nil, fmt.Errorf("'%s' is not an OCI image layout: invalid oci-layout file", dir)
	}
	l := &Layout{Dir: dir}
	data, err = os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &l.Index); err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	return l, nil
}

// BlobPath is the file of a blob.
func (l *Layout) BlobPath(digest string) (string, error) { return blobPath(l.Dir, digest) }

// Open opens a blob.
func (l *Layout) Open(digest string) (*os.File, error) {
	p, err := l.BlobPath(digest)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// ReadBlob reads a (small) blob and checks its digest.
func (l *Layout) ReadBlob(d Descriptor) ([]byte, error) {
	f, err := l.Open(d.Digest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, err
	}
	if got := digestOf(data); got != d.Digest {
		return nil, fmt.Errorf("blob %s of %s is corrupt (its digest is %s)", d.Digest, l.Dir, got)
	}
	return data, nil
}

// Top returns the single manifest or index that index.json lists, as
// nixl's layouts have.
func (l *Layout) Top() (Descriptor, error) {
	if len(l.Index.Manifests) != 1 {
		return Descriptor{}, fmt.Errorf("%s: index.json lists %d manifests, expected one", l.Dir, len(l.Index.Manifests))
	}
	return l.Index.Manifests[0], nil
}

// Image is a resolved image of a layout.
type Image struct {
	Descriptor Descriptor // the manifest's
	Manifest   Manifest
	Config     ConfigFile
	RawConfig  []byte
}

// IsIndex reports whether a descriptor is of an index.
func IsIndex(d Descriptor) bool {
	return normalizeMediaType(d.MediaType) == MediaTypeIndex
}

// ReadIndex reads the index a descriptor points to.
func (l *Layout) ReadIndex(d Descriptor) (*Index, error) {
	data, err := l.ReadBlob(d)
	if err != nil {
		return nil, err
	}
	var ix Index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("index %s: %w", d.Digest, err)
	}
	return &ix, nil
}

// ReadImage reads the manifest a descriptor points to and its
// configuration.
func (l *Layout) ReadImage(d Descriptor) (*Image, error) {
	switch normalizeMediaType(d.MediaType) {
	case MediaTypeManifest, "":
	default:
		return nil, fmt.Errorf("%s is a %s, not an image manifest", d.Digest, d.MediaType)
	}
	data, err := l.ReadBlob(d)
	if err != nil {
		return nil, err
	}
	img := &Image{Descriptor: d}
	if err := json.Unmarshal(data, &img.Manifest); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	if img.Manifest.SchemaVersion != 2 {
		return nil, fmt.Errorf("manifest %s: schema version %d is not supported", d.Digest, img.Manifest.SchemaVersion)
	}
	if img.RawConfig, err = l.ReadBlob(img.Manifest.Config); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(img.RawConfig, &img.Config); err != nil {
		return nil, fmt.Errorf("configuration %s: %w", img.Manifest.Config.Digest, err)
	}
	if len(img.Config.RootFS.DiffIDs) != len(img.Manifest.Layers) {
		return nil, fmt.Errorf("manifest %s has %d layers but its configuration %d diff_ids", d.Digest, len(img.Manifest.Layers), len(img.Config.RootFS.DiffIDs))
	}
	return img, nil
}

// platformMatches reports whether have satisfies want (a variant is
// only compared when both have one).
func platformMatches(have, want *Platform) bool {
	if want == nil {
		return true
	}
	if have == nil {
		return false
	}
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return have.Variant == "" || want.Variant == "" || have.Variant == want.Variant
}

// ResolveImage finds the image of the layout for a platform (nil: the
// only one): the manifest index.json lists, or the one of the platform
// in an index it lists.
func (l *Layout) ResolveImage(want *Platform) (*Image, error) {
	var candidates []Descriptor
	var walk func(ds []Descriptor, depth int) error
	walk = func(ds []Descriptor, depth int) error {
		for _, d := range ds {
			if IsIndex(d) {
				if depth > 4 {
					return fmt.Errorf("%s: indexes nested too deeply", l.Dir)
				}
				ix, err := l.ReadIndex(d)
				if err != nil {
					return err
				}
				if err := walk(ix.Manifests, depth+1); err != nil {
					return err
				}
				continue
			}
			candidates = append(candidates, d)
		}
		return nil
	}
	if err := walk(l.Index.Manifests, 0); err != nil {
		return nil, err
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%s holds no image", l.Dir)
	}
	if len(candidates) == 1 {
		img, err := l.ReadImage(candidates[0])
		if err != nil {
			return nil, err
		}
		p := &Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
		if !platformMatches(p, want) {
			return nil, fmt.Errorf("%s holds an image for %s, not %s", l.Dir, p, want)
		}
		return img, nil
	}
	var seen []string
	for _, d := range candidates {
		if platformMatches(d.Platform, want) && d.Platform != nil {
			return l.ReadImage(d)
		}
		seen = append(seen, d.Platform.String())
	}
	if want == nil {
		return nil, fmt.Errorf("%s holds images for several platforms (%v): choose one", l.Dir, seen)
	}
	return nil, fmt.Errorf("%s has no image for %s (it has %v)", l.Dir, want, seen)
}

// writeLayoutFiles writes oci-layout and index.json (listing top) into
// a layout directory whose blobs are written.
func writeLayoutFiles(dir string, top Descriptor) error {
	if err := os.WriteFile(filepath.Join(dir, ociLayoutFile), []byte(ociLayoutVersionJSON), 0o644); err != nil {
		return err
	}
	ix := Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{top}}
	data, err := canonicalJSON(ix)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644)
}

// initLayout creates an empty layout directory.
func initLayout(dir string) error {
	return os.MkdirAll(blobDir(dir), 0o755)
}
