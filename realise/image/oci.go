package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Media types written and understood.
const (
	MediaTypeManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeConfig      = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayerGzip   = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTypeLayer       = "application/vnd.oci.image.layer.v1.tar"
	MediaTypeLayerZstd   = "application/vnd.oci.image.layer.v1.tar+zstd"
	dockerManifest       = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList   = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerConfig         = "application/vnd.docker.container.image.v1+json"
	dockerLayerGzip      = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	dockerLayer          = "application/vnd.docker.image.rootfs.diff.tar"
	dockerForeignLayer   = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	ociLayoutFile        = "oci-layout"
	ociLayoutVersionJSON = `{"imageLayoutVersion":"1.0.0"}`
)

// Annotations nixl writes.
const (
	// AnnotationRefName is the OCI annotation naming a manifest in an
	// index.json (the tag).
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName is containerd's full image name ("name:tag"),
	// which docker load reads from OCI layouts.
	AnnotationImageName = "io.containerd.image.name"
	// AnnotationStorePaths lists, on a layer descriptor of a manifest
	// nixl built, the store paths the layer holds, separated by spaces;
	// "" for the customisation layer, absent for base image layers.
	AnnotationStorePaths = "org.nixl.store-paths"
	// AnnotationLayerKind says what a layer of a nixl-built image is:
	// "store" (store paths), "customisation" (symlinks and extra files)
	// or "base" (from fromImage).
	AnnotationLayerKind = "org.nixl.layer"
	// AnnotationSource records where a pulled image came from
	// ("registry/repo@sha256:…").
	AnnotationSource = "org.nixl.source"
)

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	URLs        []string          `json:"urls,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is the platform of an image in an index.
type Platform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
	Variant      string   `json:"variant,omitempty"`
}

// String renders a platform as os/arch[/variant].
func (p *Platform) String() string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Manifest is an OCI (or Docker schema 2) image manifest.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// Index is an OCI image index (or Docker manifest list); an OCI layout's
// index.json is one too.
type Index struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	Manifests     []Descriptor      `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// ConfigFile is an image configuration blob. Fields nixl does not know
// are not kept: base images are read into it only to inherit their
// runtime configuration, history and layers.
type ConfigFile struct {
	Created      string        `json:"created,omitempty"`
	Author       string        `json:"author,omitempty"`
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	OSVersion    string        `json:"os.version,omitempty"`
	Variant      string        `json:"variant,omitempty"`
	Config       RuntimeConfig `json:"config"`
	RootFS       RootFS        `json:"rootfs"`
	History      []History     `json:"history,omitempty"`
}

// RuntimeConfig is the "config" object of an image configuration: how a
// container runs.
type RuntimeConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	ArgsEscaped  bool                `json:"ArgsEscaped,omitempty"`
}

// RootFS lists the uncompressed digests of the layers.
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// History describes one layer (or an empty step) of an image.
type History struct {
	Created    string `json:"created,omitempty"`
	CreatedBy  string `json:"created_by,omitempty"`
	Author     string `json:"author,omitempty"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

// canonicalJSON marshals v without HTML escaping and without a final
// newline; maps are sorted by encoding/json, so equal values give equal
// bytes and digests.
func canonicalJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// digestOf is the "sha256:<hex>" digest of data.
func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// splitDigest checks a "sha256:<64 hex>" digest and returns its hex part.
func splitDigest(d string) (string, error) {
	alg, hexPart, ok := strings.Cut(d, ":")
	if !ok || alg != "sha256" || len(hexPart) != 64 || strings.Trim(hexPart, "0123456789abcdef") != "" {
		return "", fmt.Errorf("invalid digest '%s' (expected sha256:<64 lowercase hex digits>)", d)
	}
	return hexPart, nil
}

// PlatformOf returns the OCI platform of a Nix system ("x86_64-linux" →
// linux/amd64, "aarch64-linux" → linux/arm64/v8, …).
func PlatformOf(system string) (Platform, error) {
	cpu, kernel, ok := strings.Cut(system, "-")
	if !ok {
		return Platform{}, fmt.Errorf("invalid system '%s'", system)
	}
	var p Platform
	switch kernel {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "windows":
		p.OS = kernel
	default:
		return Platform{}, fmt.Errorf("system '%s': no OCI operating system for '%s'", system, kernel)
	}
	switch cpu {
	case "x86_64":
		p.Architecture = "amd64"
	case "i686", "i586", "i486", "i386":
		p.Architecture = "386"
	case "aarch64":
		p.Architecture, p.Variant = "arm64", "v8"
	case "armv7l", "armv7a":
		p.Architecture, p.Variant = "arm", "v7"
	case "armv6l":
		p.Architecture, p.Variant = "arm", "v6"
	case "armv5tel":
		p.Architecture, p.Variant = "arm", "v5"
	case "riscv64":
		p.Architecture = "riscv64"
	case "powerpc64le":
		p.Architecture = "ppc64le"
	case "powerpc64":
		p.Architecture = "ppc64"
	case "s390x":
		p.Architecture = "s390x"
	case "mips64el":
		p.Architecture = "mips64le"
	case "loongarch64":
		p.Architecture = "loong64"
	case "wasm32":
		p.Architecture = "wasm"
	default:
		return Platform{}, fmt.Errorf("system '%s': no OCI architecture for '%s'", system, cpu)
	}
	return p, nil
}

// normalizeMediaType maps Docker schema 2 media types to their OCI
// equivalents (same bytes, other name).
func normalizeMediaType(mt string) string {
	switch mt {
	case dockerManifest:
		return MediaTypeManifest
	case dockerManifestList:
		return MediaTypeIndex
	case dockerConfig:
		return MediaTypeConfig
	case dockerLayerGzip:
		return MediaTypeLayerGzip
	case dockerLayer:
		return MediaTypeLayer
	}
	return mt
}

// DigestOf returns the "sha256:<hex>" digest of what r yields.
func DigestOf(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
