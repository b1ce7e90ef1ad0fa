package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/realise/derivation"
)

// BuildContext is what the builtin builders get from the realiser: the
// fields of builtinbuild.Context, which this package cannot import
// (builtinbuild registers these builders, see Builders).
type BuildContext struct {
	Drv *derivation.Derivation
	// Outputs maps output names to the paths the build must create.
	Outputs map[string]string
	// Env is the environment the realiser computed; with
	// __structuredAttrs it names .attrs.json (NIX_ATTRS_JSON_FILE).
	Env      map[string]string
	BuildDir string
	StoreDir string
	Log      io.Writer
	Ctx      context.Context
}

// Builders are the builtin builders of this package, by builder name:
//
//   - builtin:oci-image (image.build): an OCI image layout from store
//     paths;
//   - builtin:oci-index (image.index): a multi-platform index of
//     images;
//   - builtin:oci-pull (image.pull): a fixed-output derivation pulling
//     an image from a registry by digest;
//   - builtin:oci-rootfs (image.rootfs): an image unpacked into a root
//     file system (and its runtime configuration).
var Builders = map[string]func(*BuildContext) error{
	"builtin:oci-image":  BuildImage,
	"builtin:oci-index":  BuildIndexBuiltin,
	"builtin:oci-pull":   PullBuiltin,
	"builtin:oci-rootfs": RootFSBuiltin,
}

func (c *BuildContext) log() io.Writer {
	if c.Log == nil {
		return io.Discard
	}
	return c.Log
}

func (c *BuildContext) ctx() context.Context {
	if c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}

func (c *BuildContext) out() (string, error) {
	if p := c.Outputs["out"]; p != "" {
		return p, nil
	}
	if p := c.Env["out"]; p != "" {
		return p, nil
	}
	return "", fmt.Errorf("the derivation has no output 'out'")
}

// attrs returns the derivation's structured attributes: .attrs.json as
// the realiser wrote it (with exportReferencesGraph's closures filled
// in), else the derivation's __json.
func (c *BuildContext) attrs(v any) error {
	var candidates []string
	if p := c.Env["NIX_ATTRS_JSON_FILE"]; p != "" {
		candidates = append(candidates, p)
	}
	if c.BuildDir != "" {
		candidates = append(candidates, filepath.Join(c.BuildDir, ".attrs.json"))
	}
	for _, p := range candidates {
		data, err := os.ReadFile(p)
		if err == nil {
			return decodeAttrs(data, v)
		}
	}
	js := c.Env["__json"]
	if js == "" && c.Drv != nil {
		js = c.Drv.Env["__json"]
	}
	if js == "" {
		return fmt.Errorf("the derivation has no structured attributes (__structuredAttrs = true)")
	}
	return decodeAttrs([]byte(js), v)
}

func decodeAttrs(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("reading the structured attributes: %w", err)
	}
	return nil
}

// closureEntry is an entry of exportReferencesGraph's closure
// information in .attrs.json.
type closureEntry struct {
	Path       string   `json:"path"`
	References []string `json:"references"`
	NarSize    int64    `json:"narSize"`
}

// imageAttrs are the attributes image.build gives builtin:oci-image.
type imageAttrs struct {
	// Name and Tag are imageName and imageTag: the derivation's name is
	// a store path name, which image names ("ghcr.io/me/app") are not.
	Name         string          `json:"imageName"`
	Tag          *string         `json:"imageTag"`
	System       string          `json:"system"`
	Architecture *string         `json:"architecture"`
	OS           *string         `json:"os"`
	Variant      *string         `json:"variant"`
	Contents     []string        `json:"contents"`
	Config       json.RawMessage `json:"config"`
	Created      *string         `json:"created"`
	FromImage    *string         `json:"fromImage"`
	MaxLayers    *json.Number    `json:"maxLayers"`
	ExtraFiles   []ExtraFile     `json:"extraFiles"`
	Compression  *string         `json:"compression"`
	// Closure is exportReferencesGraph.closure, filled in by the
	// realiser: the closure of the contents and of the store paths
	// the configuration and extra files refer to.
	Closure json.RawMessage `json:"closure"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// platformAttrs is the platform of system, with explicit architecture,
// os and variant attributes taking precedence.
func platformAttrs(system string, arch, osName, variant *string) (Platform, error) {
	var p Platform
	if system != "" {
		var err error
		if p, err = PlatformOf(system); err != nil && (arch == nil || osName == nil) {
			return Platform{}, err
		}
	}
	if arch != nil {
		p.Architecture = *arch
		if variant == nil {
			p.Variant = ""
		}
	}
	if osName != nil {
		p.OS = *osName
	}
	if variant != nil {
		p.Variant = *variant
	}
	if p.Architecture == "" || p.OS == "" {
		return Platform{}, fmt.Errorf("no platform: set system, or architecture and os")
	}
	return p, nil
}

// ParseConfig reads the runtime configuration as image.build passes it:
// Docker's field names, with Env also accepted as an attribute set and
// ExposedPorts and Volumes as lists.
func ParseConfig(data []byte) (RuntimeConfig, error) {
	var c RuntimeConfig
	if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
		return c, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	for k, v := range raw {
		if string(v) == "null" {
			continue
		}
		var err error
		switch k {
		case "User":
			err = json.Unmarshal(v, &c.User)
		case "WorkingDir":
			err = json.Unmarshal(v, &c.WorkingDir)
		case "StopSignal":
			err = json.Unmarshal(v, &c.StopSignal)
		case "Entrypoint":
			c.Entrypoint, err = stringList(v)
			if c.Entrypoint == nil && err == nil {
				c.Entrypoint = []string{}
			}
		case "Cmd":
			c.Cmd, err = stringList(v)
			if c.Cmd == nil && err == nil {
				c.Cmd = []string{}
			}
		case "Env":
			var m map[string]string
			if json.Unmarshal(v, &m) == nil {
				for _, name := range sortedKeys(m) {
					c.Env = append(c.Env, name+"="+m[name])
				}
			} else {
				c.Env, err = stringList(v)
			}
		case "ExposedPorts":
			c.ExposedPorts, err = stringSet(v, true)
		case "Volumes":
			c.Volumes, err = stringSet(v, false)
		case "Labels":
			err = json.Unmarshal(v, &c.Labels)
		default:
			return c, fmt.Errorf("config: unknown attribute '%s' (known: Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal)", k)
		}
		if err != nil {
			return c, fmt.Errorf("config.%s: %w", k, err)
		}
	}
	return c, nil
}

// stringList accepts a list of strings or a single string (one
// element).
func stringList(v json.RawMessage) ([]string, error) {
	var l []string
	if err := json.Unmarshal(v, &l); err == nil {
		return l, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("expected a list of strings")
	}
	return []string{s}, nil
}

// stringSet accepts a list of strings or an attribute set; ports
// without a protocol get "/tcp".
func stringSet(v json.RawMessage, ports bool) (map[string]struct{}, error) {
	var keys []string
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err == nil {
		keys = sortedKeys(m)
	} else {
		var l []any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("expected a list or an attribute set")
		}
		for _, x := range l {
			switch x := x.(type) {
			case string:
				keys = append(keys, x)
			case json.Number:
				keys = append(keys, x.String())
			default:
				return nil, fmt.Errorf("expected strings or numbers, not %v", x)
			}
		}
	}
	out := map[string]struct{}{}
	for _, k := range keys {
		if ports && !strings.Contains(k, "/") {
			if _, err := strconv.Atoi(k); err != nil {
				return nil, fmt.Errorf("invalid port '%s'", k)
			}
			k += "/tcp"
		}
		out[k] = struct{}{}
	}
	return out, nil
}

// BuildImage is builtin:oci-image, the builder of image.build.
//
// The closure of the image comes from the realiser: the derivation sets
// __structuredAttrs and exportReferencesGraph.closure (the contents and
// the store paths its configuration refers to), so .attrs.json lists
// every store path of the closure with its references and size, taken
// from the store database by the realiser, which also made sure they
// are inputs of the build. The builder therefore needs no access to the
// database, only to the store directory.
func BuildImage(c *BuildContext) error {
	out, err := c.out()
	if err != nil {
		return err
	}
	var a imageAttrs
	if err := c.attrs(&a); err != nil {
		return err
	}
	// Absent: the realiser did not process exportReferencesGraph; null:
	// it did, for an empty list of roots.
	if len(a.Closure) == 0 || a.Closure[0] != '[' && string(a.Closure) != "null" {
		return fmt.Errorf("the closure of the image's contents is missing: the realiser must fill in exportReferencesGraph.closure in .attrs.json (__structuredAttrs)")
	}
	var entries []closureEntry
	if err := json.Unmarshal(a.Closure, &entries); err != nil {
		return fmt.Errorf("exportReferencesGraph closure: %w", err)
	}
	spec := &Spec{
		Name:        a.Name,
		Tag:         str(a.Tag),
		StoreDir:    c.StoreDir,
		Contents:    a.Contents,
		Created:     str(a.Created),
		FromImage:   str(a.FromImage),
		ExtraFiles:  a.ExtraFiles,
		Compression: str(a.Compression),
		ScratchDir:  c.BuildDir,
		Log:         c.log(),
	}
	if spec.StoreDir == "" {
		spec.StoreDir = c.Env["NIX_STORE"]
	}
	for _, e := range entries {
		spec.Closure = append(spec.Closure, PathInfo(e))
	}
	if a.MaxLayers != nil {
		n, err := a.MaxLayers.Int64()
		if err != nil || n < 1 {
			return fmt.Errorf("maxLayers must be a positive integer, not %s", a.MaxLayers)
		}
		spec.MaxLayers = int(n)
	}
	if spec.Platform, err = platformAttrs(a.System, a.Architecture, a.OS, a.Variant); err != nil {
		return err
	}
	if spec.Config, err = ParseConfig(a.Config); err != nil {
		return err
	}
	if spec.ScratchDir != "" {
		spec.ScratchDir = filepath.Join(spec.ScratchDir, "image-scratch")
	}
	_, err = Build(c.ctx(), spec, out)
	return err
}

// indexAttrs are the attributes image.index gives builtin:oci-index.
type indexAttrs struct {
	Name   *string  `json:"imageName"`
	Tag    *string  `json:"imageTag"`
	Images []string `json:"images"`
}

// BuildIndexBuiltin is builtin:oci-index, the builder of image.index.
func BuildIndexBuiltin(c *BuildContext) error {
	out, err := c.out()
	if err != nil {
		return err
	}
	var a indexAttrs
	if err := c.attrs(&a); err != nil {
		return err
	}
	_, err = BuildIndex(&IndexSpec{Name: str(a.Name), Tag: str(a.Tag), Images: a.Images, Log: c.log()}, out)
	return err
}

// pullAttrs are the attributes image.pull gives builtin:oci-pull.
type pullAttrs struct {
	Ref          string  `json:"ref"`
	Digest       string  `json:"digest"`
	System       string  `json:"system"`
	Architecture *string `json:"architecture"`
	OS           *string `json:"os"`
	Variant      *string `json:"variant"`
}

// PullBuiltin is builtin:oci-pull, the builder of image.pull: a
// fixed-output derivation, the only one of these builders that uses the
// network.
func PullBuiltin(c *BuildContext) error {
	out, err := c.out()
	if err != nil {
		return err
	}
	var a pullAttrs
	if err := c.attrs(&a); err != nil {
		return err
	}
	p, err := platformAttrs(a.System, a.Architecture, a.OS, a.Variant)
	if err != nil {
		return err
	}
	_, err = Pull(c.ctx(), &PullSpec{Ref: a.Ref, Digest: a.Digest, Platform: &p, Log: c.log()}, out)
	return err
}
