package derivation

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"github.com/nixl-project/nixl/nixhash"
)

// ATerm returns the canonical .drv text of d, exactly as Nix writes it.
func (d *Derivation) ATerm() []byte {
	return d.Sorted().ATerm()
}

// ATerm returns the canonical .drv text of s.
func (s *Sorted) ATerm() []byte {
	return s.appendATerm(nil, false, nil)
}

// atermBuffers holds the buffers of texts that are only hashed: every
// evaluated derivation is written three times (its masked and unmasked
// modulo hash and its .drv path), and the text is garbage right after.
var atermBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// sumATerm is the SHA-256 of appendATerm's text.
func (s *Sorted) sumATerm(maskOutputs bool, inputs []inputGroup) nixhash.Hash {
	buf := atermBuffers.Get().(*[]byte)
	*buf = s.appendATerm((*buf)[:0], maskOutputs, inputs)
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

// appendATerm writes s. With maskOutputs, output paths and the environment
// variables named after outputs are written empty. A non-nil inputs replaces
// InputDrvs (it must be sorted by hash).
//
// Nix writes output names, paths, hash fields, input paths and the platform
// without escaping, and builder, arguments and environment with escaping;
// matching that exactly matters even for odd platforms, because the text is
// hashed.
func (s *Sorted) appendATerm(b []byte, maskOutputs bool, inputs []inputGroup) []byte {
	b = append(b, "Derive(["...)
	for i, o := range s.Outputs {
		if i > 0 {
			b = append(b, ',')
		}
		path := o.Path
		if maskOutputs {
			path = ""
		}
		b = append(b, '(')
		b = appendRaw(b, o.Name)
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
		for i, in := range s.InputDrvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '(')
			b = appendRaw(b, in.Path)
			b = append(b, ',')
			b = appendList(b, in.Outputs, appendRaw)
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
	b = appendList(b, s.InputSrcs, appendRaw)
	b = append(b, ',')
	b = appendRaw(b, s.Platform)
	b = append(b, ',')
	b = appendEscaped(b, s.Builder)
	b = append(b, ',')
	b = appendList(b, s.Args, appendEscaped)
	b = append(b, ",["...)
	for i, v := range s.Env {
		if i > 0 {
			b = append(b, ',')
		}
		value := v.Value
		if maskOutputs && s.isOutput(v.Key) {
			value = ""
		}
		b = append(b, '(')
		b = appendEscaped(b, v.Key)
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
	// Eight bytes at a time up to the first word that may hold a byte
	// to escape: the environment is most of the text, written three
	// times per evaluated derivation, and rarely needs escaping.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if mayNeedEscape(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))) {
			break
		}
	}
	for ; i < len(s); i++ {
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

// mayNeedEscape reports whether any byte of the word w may be one that
// appendEscaped escapes: below 0x0e (which holds tab, newline and return),
// a quote or a backslash. False positives only cost the byte-wise loop.
func mayNeedEscape(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zeroByte := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	below0e := (w - ones*0x0e) & ^w & highs
	return below0e|zeroByte(w^(ones*'"'))|zeroByte(w^(ones*'\\')) != 0
}

// needsEscape marks the bytes appendEscaped escapes, '\\' the largest.
var needsEscape = ['\\' + 1]bool{'"': true, '\\': true, '\n': true, '\r': true, '\t': true}
