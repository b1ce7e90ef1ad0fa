package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultCreated is the creation time of images that do not give one:
// one second after the epoch, as Nix's store timestamps.
const DefaultCreated = "1970-01-01T00:00:01Z"

// DefaultMaxLayers is the default maximum number of layers, base image
// layers and the customisation layer included. Docker's overlay driver
// allows 125 at most.
const DefaultMaxLayers = 100

// Spec describes an image to build.
type Spec struct {
	// Name is the image's repository name ("hello", "ghcr.io/me/hello");
	// Tag its tag (default "latest").
	Name string
	Tag  string
	// StoreDir is the store directory.
	StoreDir string
	// Contents are the store paths whose top-level directories' entries
	// are linked from the image's root (/bin/sh → …-busybox/bin/sh).
	Contents []string
	// Closure lists every store path the image holds, with its
	// references: the closure of the contents and of the paths the
	// configuration and the extra files refer to.
	Closure []PathInfo
	// Config is the runtime configuration.
	Config RuntimeConfig
	// Platform is the image's platform.
	Platform Platform
	// Created is the creation time (RFC 3339, default DefaultCreated),
	// also the modification time of every file in the layers.
	Created string
	// FromImage is a base image: an OCI image layout directory, an OCI
	// archive or a Docker archive.
	FromImage string
	// MaxLayers bounds the number of layers, the base image's and the
	// customisation layer included (default DefaultMaxLayers).
	MaxLayers int
	// ExtraFiles are added to the customisation layer.
	ExtraFiles []ExtraFile
	// Compression is CompressionGzip (default) or CompressionNone.
	Compression string
	// ScratchDir holds temporary files (an unpacked base archive);
	// default: a directory in the output.
	ScratchDir string
	// Log receives progress messages and warnings.
	Log io.Writer
}

// Layer describes a layer of a built image.
type Layer struct {
	Descriptor
	DiffID string `json:"diffID"`
	// Kind is "base", "store" or "customisation".
	Kind string `json:"kind"`
	// StorePaths are the store paths of a "store" layer.
	StorePaths []string `json:"storePaths,omitempty"`
}

// Build writes the OCI image layout of spec into out (created; it must
// not exist or be empty) and returns the descriptor of its manifest.
func Build(ctx context.Context, spec *Spec, out string) (Descriptor, error) {
	log := spec.Log
	if log == nil {
		log = io.Discard
	}
	if spec.Name == "" {
		return Descriptor{}, fmt.Errorf("image name must not be empty")
	}
	if err := checkRepoName(spec.Name); err != nil {
		return Descriptor{}, err
	}
	tag := spec.Tag
	if tag == "" {
		tag = "latest"
	}
	if err := checkTag(tag); err != nil {
		return Descriptor{}, err
	}
	created := spec.Created
	if created == "" {
		created = DefaultCreated
	}
	mtime, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return Descriptor{}, fmt.Errorf("invalid creation time '%s' (expected RFC 3339, such as %s)", created, DefaultCreated)
	}
	mtime = mtime.UTC().Truncate(time.Second)
	maxLayers := spec.MaxLayers
	if maxLayers == 0 {
		maxLayers = DefaultMaxLayers
	}
	if spec.Platform.OS == "" || spec.Platform.Architecture == "" {
		return Descriptor{}, fmt.Errorf("the image's platform is not set")
	}
	storeDir := filepath.Clean(spec.StoreDir)
	for _, p := range spec.Closure {
		if filepath.Dir(p.Path) != storeDir {
			return Descriptor{}, fmt.Errorf("'%s' is not a store path of '%s'", p.Path, storeDir)
		}
	}

	if err := initLayout(out); err != nil {
		return Descriptor{}, err
	}
	scratch := spec.ScratchDir
	if scratch == "" {
		scratch = filepath.Join(out, ".scratch")
		defer os.RemoveAll(scratch)
	}

	var base *baseImage
	if spec.FromImage != "" {
		p := spec.Platform
		if base, err = openBase(spec.FromImage, &p, scratch); err != nil {
			return Descriptor{}, err
		}
		fmt.Fprintf(log, "base image: %d layers\n", len(base.layers))
	}
	baseLayers := 0
	if base != nil {
		baseLayers = len(base.layers)
	}
	// Store paths the base image has already are not added again.
	closure := spec.Closure
	if base != nil && len(base.storePaths) > 0 {
		closure = nil
		for _, p := range spec.Closure {
			if !base.storePaths[p.Path] {
				closure = append(closure, p)
			}
		}
		// References to the base's paths are satisfied.
		for i, p := range closure {
			var refs []string
			for _, r := range p.References {
				if !base.storePaths[r] {
					refs = append(refs, r)
				}
			}
			closure[i].References = refs
		}
		if n := len(spec.Closure) - len(closure); n > 0 {
			fmt.Fprintf(log, "%d store paths are in the base image already\n", n)
		}
	}
	storeLayers := maxLayers - baseLayers - 1
	if storeLayers < 1 && len(closure) > 0 {
		return Descriptor{}, fmt.Errorf("maxLayers (%d) leaves no layer for the store paths: the base image has %d layers and the customisation layer needs one", maxLayers, baseLayers)
	}
	groups, err := GroupLayers(closure, storeLayers)
	if err != nil {
		return Descriptor{}, err
	}

	// The customisation layer's tree, checked before the long work.
	tree := newCustomTree(log)
	if err := tree.addContents(spec.Contents); err != nil {
		return Descriptor{}, err
	}
	for _, f := range spec.ExtraFiles {
		if err := tree.addExtra(f); err != nil {
			return Descriptor{}, err
		}
	}

	sizes := map[string]int64{}
	for _, p := range spec.Closure {
		sizes[p.Path] = p.NarSize
	}
	var jobs []layerJob
	for _, g := range groups {
		var w int64
		for _, p := range g {
			w += sizes[p]
		}
		jobs = append(jobs, layerJob{weight: w, write: func(wr io.Writer, buf []byte) error {
			return writeStoreLayer(wr, storeDir, g, mtime, buf)
		}})
	}
	jobs = append(jobs, layerJob{write: func(wr io.Writer, buf []byte) error { return tree.write(wr, mtime, buf) }})
	var total int64
	for _, j := range jobs {
		total += j.weight
	}
	fmt.Fprintf(log, "writing %d layers (%d store paths, %.1f MiB)\n", len(jobs), len(closure), float64(total)/(1<<20))
	start := time.Now()
	blobs, err := writeLayers(ctx, out, spec.Compression, jobs)
	if err != nil {
		return Descriptor{}, err
	}
	if secs := time.Since(start).Seconds(); secs > 0 {
		fmt.Fprintf(log, "layers written in %.2fs\n", secs)
	}

	// Base layers, copied.
	var layers []Descriptor
	var diffIDs []string
	var history []History
	cfg := ConfigFile{
		Created:      created,
		Architecture: spec.Platform.Architecture,
		OS:           spec.Platform.OS,
		Variant:      spec.Platform.Variant,
		Config:       spec.Config,
		RootFS:       RootFS{Type: "layers"},
	}
	if base != nil {
		for _, d := range base.layers {
			src, err := base.blob(d)
			if err != nil {
				return Descriptor{}, err
			}
			f, err := os.Open(src)
			if err != nil {
				return Descriptor{}, fmt.Errorf("fromImage: layer %s: %w", d.Digest, err)
			}
			_, err = copyBlob(out, f, d.Digest)
			f.Close()
			if err != nil {
				return Descriptor{}, fmt.Errorf("fromImage: layer %s: %w", d.Digest, err)
			}
			layers = append(layers, Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size,
				Annotations: map[string]string{AnnotationLayerKind: "base"}})
		}
		diffIDs = append(diffIDs, base.diffIDs...)
		history = append(history, base.config.History...)
		cfg.Config = mergeConfig(base.config.Config, spec.Config)
	}
	for i, b := range blobs {
		ann := map[string]string{}
		h := History{Created: created, CreatedBy: "nixl image.build"}
		if i < len(groups) {
			ann[AnnotationLayerKind] = "store"
			ann[AnnotationStorePaths] = strings.Join(groups[i], " ")
			if len(groups[i]) == 1 {
				h.Comment = "store path " + filepath.Base(groups[i][0])
			} else {
				h.Comment = fmt.Sprintf("%d store paths", len(groups[i]))
			}
		} else {
			ann[AnnotationLayerKind] = "customisation"
			h.Comment = "customisation layer"
		}
		layers = append(layers, Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size, Annotations: ann})
		diffIDs = append(diffIDs, b.DiffID)
		history = append(history, h)
	}
	cfg.RootFS.DiffIDs = diffIDs
	cfg.History = history
	cfgData, err := canonicalJSON(cfg)
	if err != nil {
		return Descriptor{}, err
	}
	cfgDigest, err := writeBlobBytes(out, cfgData)
	if err != nil {
		return Descriptor{}, err
	}
	m := Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        Descriptor{MediaType: MediaTypeConfig, Digest: cfgDigest, Size: int64(len(cfgData))},
		Layers:        layers,
	}
	mData, err := canonicalJSON(m)
	if err != nil {
		return Descriptor{}, err
	}
	mDigest, err := writeBlobBytes(out, mData)
	if err != nil {
		return Descriptor{}, err
	}
	platform := spec.Platform
	desc := Descriptor{
		MediaType: MediaTypeManifest,
		Digest:    mDigest,
		Size:      int64(len(mData)),
		Annotations: map[string]string{
			AnnotationRefName:   tag,
			AnnotationImageName: spec.Name + ":" + tag,
		},
		Platform: &platform,
	}
	if err := writeLayoutFiles(out, desc); err != nil {
		return Descriptor{}, err
	}
	fmt.Fprintf(log, "image %s:%s: manifest %s\n", spec.Name, tag, mDigest)
	return desc, nil
}

// mergeConfig is the configuration of an image built on a base: the
// base's, with what the new one sets taking precedence. A new
// Entrypoint resets the base's Cmd, as in a Dockerfile; environment
// variables, ports, volumes and labels are merged.
func mergeConfig(base, c RuntimeConfig) RuntimeConfig {
	out := base
	if c.User != "" {
		out.User = c.User
	}
	if c.WorkingDir != "" {
		out.WorkingDir = c.WorkingDir
	}
	if c.StopSignal != "" {
		out.StopSignal = c.StopSignal
	}
	if c.Entrypoint != nil {
		out.Entrypoint = c.Entrypoint
		out.Cmd = c.Cmd
	} else if c.Cmd != nil {
		out.Cmd = c.Cmd
	}
	if len(c.Env) > 0 {
		env := append([]string(nil), base.Env...)
		for _, kv := range c.Env {
			k, _, _ := strings.Cut(kv, "=")
			replaced := false
			for i, old := range env {
				if ok, _, _ := strings.Cut(old, "="); ok == k {
					env[i] = kv
					replaced = true
					break
				}
			}
			if !replaced {
				env = append(env, kv)
			}
		}
		out.Env = env
	}
	out.ExposedPorts = mergeSet(base.ExposedPorts, c.ExposedPorts)
	out.Volumes = mergeSet(base.Volumes, c.Volumes)
	if len(c.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range base.Labels {
			labels[k] = v
		}
		for k, v := range c.Labels {
			labels[k] = v
		}
		out.Labels = labels
	}
	return out
}

func mergeSet(a, b map[string]struct{}) map[string]struct{} {
	if len(b) == 0 {
		return a
	}
	out := map[string]struct{}{}
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}

// checkRepoName checks an image name as the distribution spec defines
// repository names, with an optional registry host.
func checkRepoName(name string) error {
	bad := func() error {
		return fmt.Errorf("invalid image name '%s': use lowercase letters, digits and separators (._-/), such as 'hello' or 'ghcr.io/me/hello'", name)
	}
	parts := strings.Split(name, "/")
	for i, p := range parts {
		if p == "" {
			return bad()
		}
		if i == 0 && len(parts) > 1 && strings.ContainsAny(p, ".:") || p == "localhost" && i == 0 {
			continue // a registry host
		}
		for j, r := range p {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			case (r == '.' || r == '_' || r == '-') && j > 0 && j < len(p)-1:
			default:
				return bad()
			}
		}
	}
	return nil
}

// checkTag checks a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func checkTag(tag string) error {
	if len(tag) > 128 {
		return fmt.Errorf("invalid tag '%s': longer than 128 characters", tag)
	}
	for i, r := range tag {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case (r == '.' || r == '-') && i > 0:
		default:
			return fmt.Errorf("invalid tag '%s'", tag)
		}
	}
	return nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
