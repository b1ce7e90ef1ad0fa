package image

import (
	"fmt"
	"io"
	"os"
)

// IndexSpec describes a multi-platform index of images.
type IndexSpec struct {
	Name, Tag string
	// Images are OCI image layouts holding one image each (image.build
	// outputs); the platform of each comes from its configuration.
	Images []string
	Log    io.Writer
}

// BuildIndex writes an OCI image layout holding an index of the images
// of spec, with all their blobs, into out.
func BuildIndex(spec *IndexSpec, out string) (Descriptor, error) {
	log := spec.Log
	if log == nil {
		log = io.Discard
	}
	if len(spec.Images) == 0 {
		return Descriptor{}, fmt.Errorf("an image index needs at least one image")
	}
	tag := spec.Tag
	if tag == "" {
		tag = "latest"
	}
	if err := checkTag(tag); err != nil {
		return Descriptor{}, err
	}
	if spec.Name != "" {
		if err := checkRepoName(spec.Name); err != nil {
			return Descriptor{}, err
		}
	}
	if err := initLayout(out); err != nil {
		return Descriptor{}, err
	}
	ix := Index{SchemaVersion: 2, MediaType: MediaTypeIndex}
	seen := map[string]string{}
	for _, src := range spec.Images {
		l, err := OpenLayout(src)
		if err != nil {
			return Descriptor{}, err
		}
		img, err := l.ResolveImage(nil)
		if err != nil {
			return Descriptor{}, err
		}
		p := &Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant, OSVersion: img.Config.OSVersion}
		if other, dup := seen[p.String()]; dup {
			return Descriptor{}, fmt.Errorf("images '%s' and '%s' are both for %s", other, src, p)
		}
		seen[p.String()] = src
		blobs := []Descriptor{img.Descriptor, img.Manifest.Config}
		blobs = append(blobs, img.Manifest.Layers...)
		for _, d := range blobs {
			if err := copyLayoutBlob(l, out, d.Digest); err != nil {
				return Descriptor{}, err
			}
		}
		ix.Manifests = append(ix.Manifests, Descriptor{
			MediaType: normalizeMediaTypeManifest(img.Descriptor.MediaType),
			Digest:    img.Descriptor.Digest,
			Size:      img.Descriptor.Size,
			Platform:  p,
		})
		fmt.Fprintf(log, "%s: %s\n", p, img.Descriptor.Digest)
	}
	data, err := canonicalJSON(ix)
	if err != nil {
		return Descriptor{}, err
	}
	d, err := writeBlobBytes(out, data)
	if err != nil {
		return Descriptor{}, err
	}
	desc := Descriptor{MediaType: MediaTypeIndex, Digest: d, Size: int64(len(data)),
		Annotations: map[string]string{AnnotationRefName: tag}}
	if spec.Name != "" {
		desc.Annotations[AnnotationImageName] = spec.Name + ":" + tag
	}
	if err := writeLayoutFiles(out, desc); err != nil {
		return Descriptor{}, err
	}
	fmt.Fprintf(log, "index %s\n", d)
	return desc, nil
}

// normalizeMediaTypeManifest keeps a manifest's media type, defaulting
// to OCI's: the digest is of the bytes, whatever the name.
func normalizeMediaTypeManifest(mt string) string {
	if mt == "" {
		return MediaTypeManifest
	}
	return mt
}

// copyLayoutBlob copies a blob from one layout to another, checking it.
func copyLayoutBlob(from *Layout, to, digest string) error {
	dst, err := blobPath(to, digest)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	f, err := from.Open(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = copyBlob(to, f, digest)
	return err
}
