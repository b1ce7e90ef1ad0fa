package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/sandbox"
)

// builderEnv computes the builder's environment exactly as Nix 2.x's
// initEnv does, and writes the files it refers to (passAsFile,
// .attrs.json/.attrs.sh, exportReferencesGraph) into the build directory
// top, which the builder sees as buildDir.
func (b *Builder) builderEnv(drv *derivation.Derivation, fixed bool, top, buildDir string, inputs []string) (map[string]string, error) {
	env := map[string]string{
		"PATH":            "/path-not-set",
		"HOME":            "/homeless-shelter",
		"NIX_STORE":       string(b.dir),
		"NIX_BUILD_CORES": strconv.Itoa(b.opts.Cores),
	}
	structured, hasJSON := drv.Env["__json"]
	var attrs map[string]any
	if hasJSON {
		dec := json.NewDecoder(strings.NewReader(structured))
		dec.UseNumber()
		if err := dec.Decode(&attrs); err != nil {
			return nil, fmt.Errorf("cannot process __json attribute of '%s': %w", drv.Name, err)
		}
	} else {
		passAsFile := map[string]bool{}
		for _, name := range strings.Fields(drv.Env["passAsFile"]) {
			passAsFile[name] = true
		}
		for k, v := range drv.Env {
			if !passAsFile[k] {
				env[k] = v
				continue
			}
			fn := ".attr-" + nixhash.SumString(nixhash.SHA256, k).NixBase32()
			if err := os.WriteFile(filepath.Join(top, fn), []byte(v), 0o600); err != nil {
				return nil, err
			}
			env[k+"Path"] = buildDir + "/" + fn
		}
	}
	for _, k := range []string{"NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"} {
		env[k] = buildDir
	}
	if fixed {
		env["NIX_OUTPUT_CHECKED"] = "1"
		var impure []string
		if hasJSON {
			if l, ok := attrs["impureEnvVars"].([]any); ok {
				for _, x := range l {
					if s, ok := x.(string); ok {
						impure = append(impure, s)
					}
				}
			}
		} else {
			impure = strings.Fields(drv.Env["impureEnvVars"])
		}
		for _, v := range impure {
			env[v] = os.Getenv(v)
		}
	}
	env["NIX_LOG_FD"] = "2"
	env["TERM"] = "xterm-256color"

	if hasJSON {
		if err := b.writeStructuredAttrs(drv, attrs, top, inputs); err != nil {
			return nil, err
		}
		env["NIX_ATTRS_JSON_FILE"] = buildDir + "/.attrs.json"
		env["NIX_ATTRS_SH_FILE"] = buildDir + "/.attrs.sh"
	} else if err := b.exportReferencesGraph(drv, top, inputs); err != nil {
		return nil, err
	}
	return env, nil
}

var exportFileName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// exportReferencesGraph writes, for each "NAME PATH" pair of the
// attribute, the closure of PATH to the file NAME in the build directory,
// in the format of nix-store --register-validity without derivers.
func (b *Builder) exportReferencesGraph(drv *derivation.Derivation, top string, inputs []string) error {
	s, ok := drv.Env["exportReferencesGraph"]
	if !ok {
		return nil
	}
	ss := strings.Fields(s)
	if len(ss)%2 != 0 {
		return fmt.Errorf("odd number of tokens in 'exportReferencesGraph': '%s'", s)
	}
	for i := 0; i < len(ss); i += 2 {
		name, path := ss[i], ss[i+1]
		if !exportFileName.MatchString(name) {
			return fmt.Errorf("invalid file name '%s' in 'exportReferencesGraph'", name)
		}
		closure, err := b.exportClosure(path, inputs)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		for _, p := range closure {
			refs, err := b.store.QueryReferences(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&buf, "%s\n\n%d\n", p, len(refs))
			for _, r := range refs {
				buf.WriteString(r + "\n")
			}
		}
		if err := os.WriteFile(filepath.Join(top, name), buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// exportClosure is the closure of the store path containing path, which
// must be an input of the build.
func (b *Builder) exportClosure(path string, inputs []string) ([]string, error) {
	p, err := b.store.ToStorePath(path)
	if err != nil {
		return nil, fmt.Errorf("'exportReferencesGraph' contains a non-store path '%s'", path)
	}
	if !slices.Contains(inputs, p) {
		return nil, fmt.Errorf("'exportReferencesGraph' refers to '%s', which is not an input of the derivation", p)
	}
	return b.store.Closure([]string{p})
}

// writeStructuredAttrs writes .attrs.json and .attrs.sh as Nix does for
// __structuredAttrs: the attributes with "outputs" mapped to the output
// paths and exportReferencesGraph keys replaced by closure information.
func (b *Builder) writeStructuredAttrs(drv *derivation.Derivation, attrs map[string]any, top string, inputs []string) error {
	outputs := map[string]any{}
	for name, o := range drv.Outputs {
		outputs[name] = o.Path
	}
	attrs["outputs"] = outputs
	if erg, ok := attrs["exportReferencesGraph"].(map[string]any); ok {
		for key, v := range erg {
			var paths []string
			switch v := v.(type) {
			case string:
				paths = []string{v}
			case []any:
				for _, x := range v {
					if s, ok := x.(string); ok {
						paths = append(paths, s)
					}
				}
			default:
				return fmt.Errorf("exportReferencesGraph value '%s' is not a list of store paths", key)
			}
			set := map[string]bool{}
			for _, p := range paths {
				c, err := b.exportClosure(p, inputs)
				if err != nil {
					return err
				}
				for _, x := range c {
					set[x] = true
				}
			}
			var infos []any
			for _, p := range sortedKeys(set) {
				info, err := b.store.QueryPathInfo(p)
				if err != nil {
					return err
				}
				refs := []any{}
				for _, r := range info.References {
					refs = append(refs, r)
				}
				closure, err := b.store.Closure([]string{p})
				if err != nil {
					return err
				}
				var closureSize int64
				for _, c := range closure {
					ci, err := b.store.QueryPathInfo(c)
					if err != nil {
						return err
					}
					closureSize += ci.NarSize
				}
				infos = append(infos, map[string]any{
					"path": p, "narHash": "sha256:" + info.NarHash.NixBase32(), "narSize": json.Number(strconv.FormatInt(info.NarSize, 10)),
					"references": refs, "closureSize": json.Number(strconv.FormatInt(closureSize, 10)),
				})
			}
			attrs[key] = infos
		}
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(attrs); err != nil {
		return err
	}
	jsonText := bytes.TrimSuffix(js.Bytes(), []byte("\n"))
	if err := os.WriteFile(filepath.Join(top, ".attrs.json"), jsonText, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(top, ".attrs.sh"), []byte(structuredAttrsShell(attrs)), 0o600)
}

var shVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// structuredAttrsShell renders the attributes that bash can hold as
// declare statements, as Nix's writeStructuredAttrsShell does: strings,
// integers, Booleans and null, and lists and sets of those.
func structuredAttrsShell(attrs map[string]any) string {
	simple := func(v any) (string, bool) {
		switch v := v.(type) {
		case string:
			return shellEscape(v), true
		case json.Number:
			f, err := v.Float64()
			if err == nil && math.Ceil(f) == f {
				return strconv.FormatInt(int64(f), 10), true
			}
			return "", false
		case nil:
			return "''", true
		case bool:
			if v {
				return "1", true
			}
			return "", true
		}
		return "", false
	}
	var sb strings.Builder
	for _, key := range sortedKeys(attrs) {
		if !shVarName.MatchString(key) {
			continue
		}
		value := attrs[key]
		if s, ok := simple(value); ok {
			fmt.Fprintf(&sb, "declare %s=%s\n", key, s)
			continue
		}
		switch v := value.(type) {
		case []any:
			var s2 strings.Builder
			good := true
			for _, x := range v {
				s3, ok := simple(x)
				if !ok {
					good = false
					break
				}
				s2.WriteString(s3 + " ")
			}
			if good {
				fmt.Fprintf(&sb, "declare -a %s=(%s)\n", key, s2.String())
			}
		case map[string]any:
			var s2 strings.Builder
			good := true
			for _, k2 := range sortedKeys(v) {
				s3, ok := simple(v[k2])
				if !ok {
					good = false
					break
				}
				fmt.Fprintf(&s2, "[%s]=%s ", shellEscape(k2), s3)
			}
			if good {
				fmt.Fprintf(&sb, "declare -A %s=(%s)\n", key, s2.String())
			}
		}
	}
	return sb.String()
}

func shellEscape(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sandboxSpec lays out the sandbox of one build: the root directory with
// /etc files like Nix's, the store directory holding the input closure
// (read-only bind mounts) and the outputs to be, the build directory at
// /build, and the sandbox paths. Fixed-output derivations share the host
// network and see its resolv.conf, services and hosts.
func (b *Builder) sandboxSpec(drv *derivation.Derivation, typ derivation.Type, root, top string, env []string, inputs []string) (*sandbox.Spec, error) {
	fixed := typ == derivation.TypeFixedOutput
	etc := filepath.Join(root, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return nil, err
	}
	files := map[string]string{
		"passwd": fmt.Sprintf("root:x:0:0:Nix build user:%[3]s:/noshell\nnixbld:x:%[1]d:%[2]d:Nix build user:%[3]s:/noshell\nnobody:x:65534:65534:Nobody:/:/noshell\n", sandboxUID, sandboxGID, sandboxBuildDir),
		"group":  fmt.Sprintf("root:x:0:\nnixbld:!:%d:\nnogroup:x:65534:\n", sandboxGID),
	}
	if !fixed {
		files["hosts"] = "127.0.0.1 localhost\n::1 localhost\n"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(content), 0o444); err != nil {
			return nil, err
		}
	}
	paths, err := b.sandboxMounts()
	if err != nil {
		return nil, err
	}
	mounts := []sandbox.Mount{{Source: top, Target: sandboxBuildDir, Writable: true}}
	for _, p := range inputs {
		mounts = append(mounts, sandbox.Mount{Source: p, Target: p})
	}
	mounts = append(mounts, paths...)
	if fixed {
		for _, f := range []string{"/etc/resolv.conf", "/etc/services", "/etc/hosts"} {
			mounts = append(mounts, sandbox.Mount{Source: f, Target: f, Optional: true})
		}
	}
	return &sandbox.Spec{
		Root:       root,
		Mounts:     mounts,
		Builder:    drv.Builder,
		Args:       drv.Args,
		Env:        env,
		Dir:        sandboxBuildDir,
		UID:        sandboxUID,
		GID:        sandboxGID,
		Hostname:   "localhost",
		Network:    fixed,
		DevShmSize: "50%",
	}, nil
}

type sandboxMount = sandbox.Mount

// sandboxMounts resolves the sandbox paths once.
func (b *Builder) sandboxMounts() ([]sandbox.Mount, error) {
	b.sandboxOnce.Do(func() {
		if b.sandboxErr = sandbox.Check(); b.sandboxErr != nil {
			return
		}
		paths := b.opts.SandboxPaths
		if paths == nil {
			paths = sandbox.DefaultPaths()
		}
		b.sandboxPaths, b.sandboxErr = sandbox.PathMounts(paths)
	})
	return b.sandboxPaths, b.sandboxErr
}

// CheckSandbox reports whether builds can be sandboxed here (with the
// configured sandbox paths).
func (b *Builder) CheckSandbox() error {
	_, err := b.sandboxMounts()
	return err
}
