package derivation

import (
	"sync"

	"github.com/nixl-project/nixl/nixhash"
)

// ATerm returns the canonical .drv text of d, exactly as Nix writes it.
func (d *Derivation) ATerm() []byte {
	return d.appendATerm(nil, false, nil, nil)
}

// atermLayout is the order a derivation's parts are written in: sorted
// output names, input derivations, input sources (without duplicates)
// and environment keys. An evaluated derivation is written three times,
// so the sorting is done once.
type atermLayout struct {
	outputs, inputDrvs, inputSrcs, env []string
}

func (d *Derivation) layout() *atermLayout {
	// One array holds the sorted keys of the three maps.
	keys := make([]string, 0, len(d.Outputs)+len(d.InputDrvs)+len(d.Env))
	keys = appendSortedKeys(keys, d.Outputs)
	n := len(keys)
	keys = appendSortedKeys(keys, d.InputDrvs)
	m := len(keys)
	keys = appendSortedKeys(keys, d.Env)
	return &atermLayout{
		outputs:   keys[:n:n],
		inputDrvs: keys[n:m:m],
		inputSrcs: sortedUnique(d.InputSrcs),
		env:       keys[m:],
	}
}

// references are the store paths the .drv text refers to (References),
// appended to refs.
func (lay *atermLayout) references(refs []string) []string {
	srcs, drvs := lay.inputSrcs, lay.inputDrvs
	for len(srcs) > 0 || len(drvs) > 0 {
		var next string
		switch {
		case len(drvs) == 0 || len(srcs) > 0 && srcs[0] < drvs[0]:
			next, srcs = srcs[0], srcs[1:]
		case len(srcs) == 0 || drvs[0] < srcs[0]:
			next, drvs = drvs[0], drvs[1:]
		default: // an input source that is also an input derivation
			next, srcs, drvs = srcs[0], srcs[1:], drvs[1:]
		}
		refs = append(refs, next)
	}
	return refs
}

// atermBuffers holds the buffers of texts that are only hashed: every
// evaluated derivation is written three times (its masked and unmasked
// modulo hash and its .drv path), and the text is garbage right after.
var atermBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// sumATerm is the SHA-256 of appendATerm's text.
func (d *Derivation) sumATerm(maskOutputs bool, inputs []inputGroup, lay *atermLayout) nixhash.Hash {
	buf := atermBuffers.Get().(*[]byte)
	*buf = d.appendATerm((*buf)[:0], maskOutputs, inputs, lay)
	h := nixhash.Sum(nixhash.SHA256, *buf)
	atermBuffers.Put(buf)
	return h
}

// inputGroup replaces the input derivations when hashing modulo: each group
// is the base16 modulo hash of some inputs and the output names used.
type inputGroup struct {
	modulo  nixhash.Hash // written in base 16
	outputs []string
}

// appendATerm writes d. With maskOutputs, output paths and the environment
// variables named after outputs are written empty. A non-nil inputs replaces
// InputDrvs (it must be sorted by hash). lay is d's layout, or nil to work
// it out.
//
// Nix writes output names, paths, hash fields, input paths and the platform
// without escaping, and builder, arguments and environment with escaping;
// matching that exactly matters even for odd platforms, because the text is
// hashed.
func (d *Derivation) appendATerm(b []byte, maskOutputs bool, inputs []inputGroup, lay *atermLayout) []byte {
	if lay == nil {
		lay = d.layout()
	}
	b = append(b, "Derive(["...)
	for i, name := range lay.outputs {
		o := d.Outputs[name]
		if i > 0 {
			b = append(b, ',')
		}
		path := o.Path
		if maskOutputs {
			path = ""
		}
		b = append(b, '(')
		b = appendRaw(b, name)
		b = append(b, ',')
		b = appendRaw(b, path)
		b = append(b, ',')
		b = appendRaw(b, o.HashAlgo)
		b = append(b, ',')
		b = appendRaw(b, o.Hash)
		b = append(b, ')')
	}
	b = append(b, "],["...)
	if inputs == nil {
		for i, path := range lay.inputDrvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '(')
			b = appendRaw(b, path)
			b = append(b, ',')
			b = appendList(b, sortedUnique(d.InputDrvs[path]), appendRaw)
			b = append(b, ')')
		}
	}
	for i, in := range inputs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '(', '"')
		b = in.modulo.AppendBase16(b)
		b = append(b, '"', ',')
		b = appendList(b, sortedUnique(in.outputs), appendRaw)
		b = append(b, ')')
	}
	b = append(b, "],"...)
	b = appendList(b, lay.inputSrcs, appendRaw)
	b = append(b, ',')
	b = appendRaw(b, d.Platform)
	b = append(b, ',')
	b = appendEscaped(b, d.Builder)
	b = append(b, ',')
	b = appendList(b, d.Args, appendEscaped)
	b = append(b, ",["...)
	for i, key := range lay.env {
		if i > 0 {
			b = append(b, ',')
		}
		value := d.Env[key]
		if _, isOutput := d.Outputs[key]; maskOutputs && isOutput {
			value = ""
		}
		b = append(b, '(')
		b = appendEscaped(b, key)
		b = append(b, ',')
		b = appendEscaped(b, value)
		b = append(b, ')')
	}
	return append(b, "])"...)
}

func appendList(b []byte, items []string, appendItem func([]byte, string) []byte) []byte {
	b = append(b, '[')
	for i, s := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, s)
	}
	return append(b, ']')
}

func appendRaw(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendEscaped(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > '\\' || !needsEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, '\\', c)
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// needsEscape marks the bytes appendEscaped escapes, '\\' the largest.
var needsEscape = ['\\' + 1]bool{'"': true, '\\': true, '\n': true, '\r': true, '\t': true}
