package image

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Inspection describes a layout: its top manifest or index and, for
// each image, its configuration and layers.
type Inspection struct {
	Layout string `json:"layout"`
	// Name and Tag are what index.json records.
	Name   string      `json:"name,omitempty"`
	Tag    string      `json:"tag,omitempty"`
	Top    Descriptor  `json:"top"`
	Images []ImageInfo `json:"images"`
}

// ImageInfo describes one image.
type ImageInfo struct {
	Manifest     Descriptor    `json:"manifest"`
	Platform     Platform      `json:"platform"`
	Created      string        `json:"created,omitempty"`
	Config       RuntimeConfig `json:"config"`
	ConfigDigest string        `json:"configDigest"`
	Layers       []Layer       `json:"layers"`
	// Size is the sum of the layer blobs' sizes.
	Size int64 `json:"size"`
}

// Inspect reads a layout.
func Inspect(layoutDir string) (*Inspection, error) {
	l, err := OpenLayout(layoutDir)
	if err != nil {
		return nil, err
	}
	top, err := l.Top()
	if err != nil {
		return nil, err
	}
	in := &Inspection{Layout: l.Dir, Top: top, Tag: top.Annotations[AnnotationRefName]}
	if n := top.Annotations[AnnotationImageName]; n != "" {
		if i := strings.LastIndexByte(n, ':'); i > 0 && !strings.Contains(n[i:], "/") {
			in.Name = n[:i]
		} else {
			in.Name = n
		}
	}
	ds := []Descriptor{top}
	if IsIndex(top) {
		ix, err := l.ReadIndex(top)
		if err != nil {
			return nil, err
		}
		ds = ix.Manifests
	}
	for _, d := range ds {
		if IsIndex(d) {
			return nil, fmt.Errorf("%s: nested indexes are not supported", l.Dir)
		}
		img, err := l.ReadImage(d)
		if err != nil {
			return nil, err
		}
		info := ImageInfo{
			Manifest:     d,
			Platform:     Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant},
			Created:      img.Config.Created,
			Config:       img.Config.Config,
			ConfigDigest: img.Manifest.Config.Digest,
		}
		for i, ld := range img.Manifest.Layers {
			layer := Layer{Descriptor: ld, DiffID: img.Config.RootFS.DiffIDs[i], Kind: ld.Annotations[AnnotationLayerKind]}
			if layer.Kind == "" {
				layer.Kind = "base"
			}
			if ps := ld.Annotations[AnnotationStorePaths]; ps != "" {
				layer.StorePaths = strings.Fields(ps)
			}
			layer.Annotations = nil
			info.Layers = append(info.Layers, layer)
			info.Size += ld.Size
		}
		in.Images = append(in.Images, info)
	}
	return in, nil
}

// WriteText prints an inspection for people.
func (in *Inspection) WriteText(w io.Writer) {
	fmt.Fprintf(w, "layout:   %s\n", in.Layout)
	if in.Name != "" || in.Tag != "" {
		fmt.Fprintf(w, "name:     %s:%s\n", in.Name, in.Tag)
	}
	kind := "manifest"
	if IsIndex(in.Top) {
		kind = "index"
	}
	fmt.Fprintf(w, "%-9s %s (%d bytes)\n", kind+":", in.Top.Digest, in.Top.Size)
	for _, img := range in.Images {
		fmt.Fprintln(w)
		if IsIndex(in.Top) {
			fmt.Fprintf(w, "image %s: manifest %s\n", img.Platform.String(), img.Manifest.Digest)
		} else {
			fmt.Fprintf(w, "platform: %s\n", img.Platform.String())
		}
		if img.Created != "" {
			fmt.Fprintf(w, "created:  %s\n", img.Created)
		}
		fmt.Fprintf(w, "config:   %s\n", img.ConfigDigest)
		c := img.Config
		if c.Entrypoint != nil {
			fmt.Fprintf(w, "  Entrypoint: %s\n", quoteList(c.Entrypoint))
		}
		if c.Cmd != nil {
			fmt.Fprintf(w, "  Cmd:        %s\n", quoteList(c.Cmd))
		}
		for _, e := range c.Env {
			fmt.Fprintf(w, "  Env:        %s\n", e)
		}
		if c.WorkingDir != "" {
			fmt.Fprintf(w, "  WorkingDir: %s\n", c.WorkingDir)
		}
		if c.User != "" {
			fmt.Fprintf(w, "  User:       %s\n", c.User)
		}
		if len(c.ExposedPorts) > 0 {
			fmt.Fprintf(w, "  Ports:      %s\n", strings.Join(sortedKeys(c.ExposedPorts), " "))
		}
		if len(c.Volumes) > 0 {
			fmt.Fprintf(w, "  Volumes:    %s\n", strings.Join(sortedKeys(c.Volumes), " "))
		}
		for _, k := range sortedKeys(c.Labels) {
			fmt.Fprintf(w, "  Label:      %s=%s\n", k, c.Labels[k])
		}
		fmt.Fprintf(w, "layers:   %d, %s compressed\n", len(img.Layers), humanSize(img.Size))
		for i, l := range img.Layers {
			fmt.Fprintf(w, "  %3d %s %9s %s\n", i+1, l.Digest, humanSize(l.Size), l.Kind)
			paths := append([]string(nil), l.StorePaths...)
			sort.Strings(paths)
			for _, p := range paths {
				fmt.Fprintf(w, "        %s\n", p)
			}
		}
	}
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
