package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RemoteOptions configure registry access.
type RemoteOptions struct {
	// Keychain gives credentials; nil means authn.DefaultKeychain (the
	// Docker configuration: $DOCKER_CONFIG/config.json or
	// ~/.docker/config.json, with its credential helpers).
	Keychain authn.Keychain
	// Transport replaces the HTTP transport (tests count requests).
	Transport http.RoundTripper
	// Insecure allows plain HTTP for registries other than localhost
	// and 127.0.0.0/8, which always may use it.
	Insecure bool
	// Jobs is how many blobs are uploaded at once (default 4).
	Jobs int
}

func (o *RemoteOptions) remote(ctx context.Context) []remote.Option {
	var kc authn.Keychain = authn.DefaultKeychain
	var opts []remote.Option
	if o != nil && o.Keychain != nil {
		kc = o.Keychain
	}
	opts = append(opts, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("nixl/image"))
	if o != nil && o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	if o != nil && o.Jobs > 0 {
		opts = append(opts, remote.WithJobs(o.Jobs))
	}
	return opts
}

func (o *RemoteOptions) nameOpts() []name.Option {
	if o != nil && o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Push uploads the image or index of an OCI image layout to ref
// ("registry/repo:tag"); blobs the registry has already are not
// uploaded again. It returns the digest of the manifest pushed.
func Push(ctx context.Context, layoutDir, ref string, o *RemoteOptions) (string, error) {
	l, err := OpenLayout(layoutDir)
	if err != nil {
		return "", err
	}
	top, err := l.Top()
	if err != nil {
		return "", err
	}
	r, err := name.ParseReference(ref, o.nameOpts()...)
	if err != nil {
		return "", err
	}
	h, err := v1.NewHash(top.Digest)
	if err != nil {
		return "", err
	}
	ii, err := layout.ImageIndexFromPath(l.Dir)
	if err != nil {
		return "", err
	}
	opts := o.remote(ctx)
	if IsIndex(top) {
		sub, err := ii.ImageIndex(h)
		if err != nil {
			return "", err
		}
		if err := remote.WriteIndex(r, sub, opts...); err != nil {
			return "", err
		}
	} else {
		img, err := ii.Image(h)
		if err != nil {
			return "", err
		}
		if err := remote.Write(r, img, opts...); err != nil {
			return "", err
		}
	}
	return top.Digest, nil
}

// PullSpec describes an image to pull.
type PullSpec struct {
	// Ref names the repository ("alpine", "ghcr.io/org/app:tag"); a tag
	// or digest in it is ignored: Digest is what is pulled.
	Ref string
	// Digest is the manifest's or index's digest ("sha256:…").
	Digest string
	// Platform chooses the image of an index (nil: the only one).
	Platform *Platform
	Remote   *RemoteOptions
	Log      io.Writer
}

// Pull writes the image of spec into an OCI image layout at out: its
// manifest exactly as the registry has it (so its digest is the one
// asked for, or the one the index lists for the platform), its
// configuration and its layers, each checked against its digest. The
// layout is a function of the digest and platform alone.
func Pull(ctx context.Context, spec *PullSpec, out string) (Descriptor, error) {
	log := spec.Log
	if log == nil {
		log = io.Discard
	}
	if _, err := splitDigest(spec.Digest); err != nil {
		return Descriptor{}, err
	}
	ref, err := name.ParseReference(spec.Ref, spec.Remote.nameOpts()...)
	if err != nil {
		return Descriptor{}, err
	}
	repo := ref.Context()
	opts := spec.Remote.remote(ctx)
	fmt.Fprintf(log, "pulling %s@%s\n", repo.Name(), spec.Digest)
	d, err := remote.Get(repo.Digest(spec.Digest), opts...)
	if err != nil {
		return Descriptor{}, err
	}
	raw := d.Manifest
	if got := digestOf(raw); got != spec.Digest {
		return Descriptor{}, fmt.Errorf("%s: the registry's manifest has digest %s, not %s", repo.Name(), got, spec.Digest)
	}
	mediaType := string(d.MediaType)
	digest := spec.Digest
	if IsIndex(Descriptor{MediaType: mediaType}) {
		var ix Index
		if err := json.Unmarshal(raw, &ix); err != nil {
			return Descriptor{}, fmt.Errorf("index %s: %w", digest, err)
		}
		var chosen *Descriptor
		var seen []string
		for i, m := range ix.Manifests {
			if IsIndex(m) || m.Platform == nil {
				continue
			}
			if platformMatches(m.Platform, spec.Platform) {
				chosen = &ix.Manifests[i]
				break
			}
			seen = append(seen, m.Platform.String())
		}
		if chosen == nil {
			return Descriptor{}, fmt.Errorf("%s@%s has no image for %s (it has %v)", repo.Name(), digest, spec.Platform, seen)
		}
		fmt.Fprintf(log, "%s: %s\n", chosen.Platform, chosen.Digest)
		d, err = remote.Get(repo.Digest(chosen.Digest), opts...)
		if err != nil {
			return Descriptor{}, err
		}
		raw, mediaType, digest = d.Manifest, string(d.MediaType), chosen.Digest
		if got := digestOf(raw); got != digest {
			return Descriptor{}, fmt.Errorf("%s: the registry's manifest has digest %s, not %s", repo.Name(), got, digest)
		}
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return Descriptor{}, fmt.Errorf("manifest %s: %w", digest, err)
	}
	if m.SchemaVersion != 2 || normalizeMediaType(mediaType) != MediaTypeManifest {
		return Descriptor{}, fmt.Errorf("manifest %s: unsupported media type '%s' (schema %d)", digest, mediaType, m.SchemaVersion)
	}
	if err := initLayout(out); err != nil {
		return Descriptor{}, err
	}
	if _, err := writeBlobBytes(out, raw); err != nil {
		return Descriptor{}, err
	}
	fetch := func(bd Descriptor) error {
		l, err := remote.Layer(repo.Digest(bd.Digest), opts...)
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err := copyBlob(out, rc, bd.Digest)
		if err != nil {
			return fmt.Errorf("blob %s: %w", bd.Digest, err)
		}
		if bd.Size != 0 && n != bd.Size {
			return fmt.Errorf("blob %s: %d bytes, the manifest says %d", bd.Digest, n, bd.Size)
		}
		return nil
	}
	if err := fetch(m.Config); err != nil {
		return Descriptor{}, err
	}
	l := &Layout{Dir: out}
	cfgData, err := l.ReadBlob(m.Config)
	if err != nil {
		return Descriptor{}, err
	}
	var cfg ConfigFile
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		return Descriptor{}, fmt.Errorf("configuration %s: %w", m.Config.Digest, err)
	}
	p := &Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if !platformMatches(p, spec.Platform) {
		return Descriptor{}, fmt.Errorf("%s@%s is an image for %s, not %s", repo.Name(), digest, p, spec.Platform)
	}
	for i, layer := range m.Layers {
		if len(layer.URLs) > 0 {
			return Descriptor{}, fmt.Errorf("layer %s is a foreign layer, which is not supported", layer.Digest)
		}
		fmt.Fprintf(log, "layer %d/%d: %s (%d bytes)\n", i+1, len(m.Layers), layer.Digest, layer.Size)
		if err := fetch(layer); err != nil {
			return Descriptor{}, err
		}
	}
	desc := Descriptor{MediaType: mediaType, Digest: digest, Size: int64(len(raw)), Platform: p}
	if err := writeLayoutFiles(out, desc); err != nil {
		return Descriptor{}, err
	}
	return desc, nil
}
