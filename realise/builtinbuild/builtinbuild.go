package builtinbuild

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nixl-project/nixl/realise/derivation"
)

// Context is what a builtin builder gets from the realiser.
type Context struct {
	Drv *derivation.Derivation
	// Outputs maps output names to the absolute paths the build must
	// create.
	Outputs map[string]string
	// Env is the builder environment the realiser computed: the
	// derivation's environment, the output paths and the NIX_* variables.
	Env map[string]string
	// BuildDir is a fresh, empty, writable directory for temporary files.
	BuildDir string
	// StoreDir is the store directory.
	StoreDir string
	// Log receives the build log.
	Log io.Writer
	// Ctx is cancelled on interrupt or timeout.
	Ctx context.Context
}

var builders = map[string]func(*Context) error{
	"builtin:fetchurl":       fetchurl,
	"builtin:unpack-tarball": unpackTarball,
	"builtin:unpack-channel": unpackChannel,
	"builtin:buildenv":       buildenv,
}

// Lookup returns the Go implementation of a builtin builder
// ("builtin:fetchurl").
func Lookup(builder string) (func(*Context) error, bool) {
	b, ok := builders[builder]
	if !ok {
		return nil, false
	}
	return func(c *Context) error {
		if c.Ctx == nil {
			c.Ctx = context.Background()
		}
		if c.Log == nil {
			c.Log = io.Discard
		}
		return b(c)
	}, true
}

// Builders lists the names Lookup knows, sorted.
func Builders() []string {
	out := make([]string, 0, len(builders))
	for n := range builders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// get returns an attribute of the environment: the realiser's, else the
// derivation's.
func (c *Context) get(name string) (string, bool) {
	if v, ok := c.Env[name]; ok {
		return v, true
	}
	if c.Drv != nil {
		v, ok := c.Drv.Env[name]
		return v, ok
	}
	return "", false
}

// attr is get for an attribute that must be there, failing with Nix's
// message.
func (c *Context) attr(name string) (string, error) {
	v, ok := c.get(name)
	if !ok {
		return "", fmt.Errorf("attribute '%s' missing", name)
	}
	return v, nil
}

// flag reports whether a Boolean attribute is true ("1", as derivation
// turns true into).
func (c *Context) flag(name string) bool {
	v, _ := c.get(name)
	return v == "1"
}

// output returns the path to create for an output.
func (c *Context) output(name string) (string, error) {
	if p, ok := c.Outputs[name]; ok && p != "" {
		return p, nil
	}
	return c.attr(name)
}

func (c *Context) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, format+"\n", args...)
}

func (c *Context) warnf(format string, args ...any) {
	c.logf("warning: "+format, args...)
}

// fields splits a whitespace-separated list attribute.
func fields(s string) []string { return strings.Fields(s) }
