package derivation

import (
	"github.com/nixl-project/nixl/nixhash"

	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/nixl-project/nixl/realise/store"
)

// ParseError reports malformed .drv text and where it was found.
type ParseError struct {
	Offset int // byte offset of the problem in the input
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid derivation at byte %d: %s", e.Offset, e.Msg)
}

// Parse reads the ATerm text of a derivation called name whose paths live in
// dir. Only the canonical form Nix writes is accepted (see the package
// documentation), and the result is checked for consistency: valid store
// paths, one kind of output, and fixed output paths that match their hashes.
func Parse(dir store.Dir, name string, text []byte) (*Derivation, error) {
	if err := store.ValidateStorePathName(name + store.DrvExtension); err != nil {
		return nil, fmt.Errorf("invalid derivation name: %w", err)
	}
	p := &parser{text: text, dir: dir}
	d, err := p.derivation(name)
	if err != nil {
		return nil, err
	}
	if _, err := d.Type(); err != nil {
		return nil, err
	}
	if err := checkFixedOutputPaths(dir, d); err != nil {
		return nil, err
	}
	return d, nil
}

// ReadFile parses the .drv file at drvPath, an absolute path in dir, taking
// the derivation name from the file name.
func ReadFile(dir store.Dir, drvPath string) (*Derivation, error) {
	p, err := dir.ParsePath(drvPath)
	if err != nil {
		return nil, err
	}
	name, ok := strings.CutSuffix(p.Name(), store.DrvExtension)
	if !ok {
		return nil, fmt.Errorf("'%s' is not a derivation: its name does not end in %s", drvPath, store.DrvExtension)
	}
	text, err := os.ReadFile(drvPath)
	if err != nil {
		return nil, err
	}
	d, err := Parse(dir, name, text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", drvPath, err)
	}
	return d, nil
}

// checkFixedOutputPaths rejects fixed outputs whose recorded path is not the
// one their content address gives; Nix would silently write the computed
// path back, so accepting it would break byte-identical round trips.
func checkFixedOutputPaths(dir store.Dir, d *Derivation) error {
	for name, o := range d.Outputs {
		if o.Kind() != FixedOutput {
			continue
		}
		want, err := fixedOutputPath(dir, d.Name, name, o)
		if err != nil {
			return fmt.Errorf("output '%s': %w", name, err)
		}
		if o.Path != want {
			return fmt.Errorf("output '%s' has path '%s', but its content address gives '%s'", name, o.Path, want)
		}
	}
	return nil
}

func fixedOutputPath(dir store.Dir, drvName, outputName string, o Output) (string, error) {
	method, h, err := o.FixedHash()
	if err != nil {
		return "", err
	}
	p, err := dir.MakeFixedOutputPath(store.OutputPathName(drvName, outputName), method, h, nil, false)
	if err != nil {
		return "", err
	}
	return dir.Path(p), nil
}

type parser struct {
	text []byte
	pos  int
	dir  store.Dir
}

func (p *parser) failAt(offset int, format string, args ...any) error {
	return &ParseError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(literal string) error {
	rest := p.text[p.pos:]
	if !bytes.HasPrefix(rest, []byte(literal)) {
		found := "end of input"
		if len(rest) > 0 {
			found = fmt.Sprintf("%q", rest[:min(len(rest), len(literal))])
		}
		return p.failAt(p.pos, "expected %q, found %s", literal, found)
	}
	p.pos += len(literal)
	return nil
}

// more consumes the separator before the next list element and reports
// whether there is one; it consumes the closing bracket at the end.
func (p *parser) more(first bool) (bool, error) {
	if p.pos < len(p.text) && p.text[p.pos] == ']' {
		p.pos++
		return false, nil
	}
	if !first {
		if err := p.expect(","); err != nil {
			return false, p.failAt(p.pos, "expected \",\" or \"]\"")
		}
	}
	return true, nil
}

// list parses "[e,e,…]" calling element for each e.
func (p *parser) list(element func() error) error {
	if err := p.expect("["); err != nil {
		return err
	}
	for first := true; ; first = false {
		ok, err := p.more(first)
		if err != nil || !ok {
			return err
		}
		if err := element(); err != nil {
			return err
		}
	}
}

// rawString parses a string Nix writes without escaping. A backslash cannot
// come from Nix's writer in such a field, so it is rejected.
func (p *parser) rawString() (string, error) {
	if err := p.expect(`"`); err != nil {
		return "", err
	}
	start := p.pos
	for ; p.pos < len(p.text); p.pos++ {
		switch p.text[p.pos] {
		case '"':
			s := string(p.text[start:p.pos])
			p.pos++
			return s, nil
		case '\\':
			return "", p.failAt(p.pos, "backslash in a field Nix writes without escapes")
		}
	}
	return "", p.failAt(start-1, "unterminated string")
}

// escapedString parses a string with Nix's escapes \" \\ \n \r \t. Raw
// newlines, carriage returns and tabs are rejected: Nix always escapes them.
func (p *parser) escapedString() (string, error) {
	if err := p.expect(`"`); err != nil {
		return "", err
	}
	start := p.pos - 1
	var b strings.Builder
	for p.pos < len(p.text) {
		c := p.text[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\n', '\r', '\t':
			return "", p.failAt(p.pos, "unescaped control character %q in string", c)
		case '\\':
			if p.pos+1 >= len(p.text) {
				return "", p.failAt(start, "unterminated string")
			}
			switch e := p.text[p.pos+1]; e {
			case '"', '\\':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				return "", p.failAt(p.pos, "unknown escape sequence \\%c", e)
			}
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.failAt(start, "unterminated string")
}

// storePath parses a raw string that must be a canonical path in the store.
func (p *parser) storePath() (string, error) {
	start := p.pos
	s, err := p.rawString()
	if err != nil {
		return "", err
	}
	if _, err := p.dir.ParseExactPath(s); err != nil {
		return "", p.failAt(start, "%v", err)
	}
	return s, nil
}

// sortedAfter checks the strict ordering that makes a list a canonical set.
func (p *parser) sortedAfter(offset int, what, previous, current string, first bool) error {
	if !first && current <= previous {
		return p.failAt(offset, "%s %q is not sorted after %q or is a duplicate", what, current, previous)
	}
	return nil
}

func (p *parser) derivation(name string) (*Derivation, error) {
	d := &Derivation{
		Name:      name,
		Outputs:   map[string]Output{},
		InputDrvs: map[string][]string{},
		InputSrcs: []string{},
		Args:      []string{},
		Env:       map[string]string{},
	}
	if err := p.expect("Derive("); err != nil {
		return nil, err
	}
	if err := p.outputs(d); err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	if err := p.inputDrvs(d); err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	if err := p.inputSrcs(d); err != nil {
		return nil, err
	}
	var err error
	if err = p.expect(","); err == nil {
		d.Platform, err = p.rawString()
	}
	if err == nil {
		err = p.expect(",")
	}
	if err == nil {
		d.Builder, err = p.escapedString()
	}
	if err == nil {
		err = p.expect(",")
	}
	if err == nil {
		err = p.list(func() error {
			arg, err := p.escapedString()
			d.Args = append(d.Args, arg)
			return err
		})
	}
	if err == nil {
		err = p.expect(",")
	}
	if err == nil {
		err = p.env(d)
	}
	if err == nil {
		err = p.expect(")")
	}
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.text) {
		return nil, p.failAt(p.pos, "trailing data after the derivation")
	}
	return d, nil
}

func (p *parser) outputs(d *Derivation) error {
	previous, first := "", true
	return p.list(func() error {
		if err := p.expect("("); err != nil {
			return err
		}
		nameAt := p.pos
		name, err := p.rawString()
		if err != nil {
			return err
		}
		if name == "" {
			return p.failAt(nameAt, "empty output name")
		}
		if err := p.sortedAfter(nameAt, "output", previous, name, first); err != nil {
			return err
		}
		previous, first = name, false
		if err := p.expect(","); err != nil {
			return err
		}
		pathAt := p.pos
		var o Output
		if o.Path, err = p.rawString(); err != nil {
			return err
		}
		if err := p.expect(","); err != nil {
			return err
		}
		algoAt := p.pos
		if o.HashAlgo, err = p.rawString(); err != nil {
			return err
		}
		if err := p.expect(","); err != nil {
			return err
		}
		hashAt := p.pos
		if o.Hash, err = p.rawString(); err != nil {
			return err
		}
		if err := p.checkOutput(o, pathAt, algoAt, hashAt); err != nil {
			return err
		}
		d.Outputs[name] = o
		return p.expect(")")
	})
}

// checkOutput validates one output's fields against each other.
func (p *parser) checkOutput(o Output, pathAt, algoAt, hashAt int) error {
	if o.HashAlgo == "" && o.Hash != "" {
		return p.failAt(hashAt, "output hash without a hash algorithm")
	}
	if o.HashAlgo != "" {
		_, algo, err := store.ParseMethodAlgorithm(o.HashAlgo)
		if err != nil {
			return p.failAt(algoAt, "%v", err)
		}
		if o.Hash != "" {
			h, err := nixhash.ParseUnprefixed(o.Hash, algo)
			if err != nil {
				return p.failAt(hashAt, "%v", err)
			}
			if h.Base16() != o.Hash {
				return p.failAt(hashAt, "output hash '%s' is not in lowercase base16", o.Hash)
			}
		}
	}
	needsPath := o.Kind() == InputAddressedOutput || o.Kind() == FixedOutput
	switch {
	case needsPath && o.Path == "":
		return p.failAt(pathAt, "fixed output without a path")
	case !needsPath && o.Path != "":
		return p.failAt(pathAt, "floating output with a path")
	case o.Path != "":
		if _, err := p.dir.ParseExactPath(o.Path); err != nil {
			return p.failAt(pathAt, "%v", err)
		}
	}
	return nil
}

func (p *parser) inputDrvs(d *Derivation) error {
	previous, first := "", true
	return p.list(func() error {
		if err := p.expect("("); err != nil {
			return err
		}
		pathAt := p.pos
		path, err := p.storePath()
		if err != nil {
			return err
		}
		if err := p.sortedAfter(pathAt, "input derivation", previous, path, first); err != nil {
			return err
		}
		previous, first = path, false
		if err := p.expect(","); err != nil {
			return err
		}
		outputs := []string{}
		previousOutput, firstOutput := "", true
		err = p.list(func() error {
			at := p.pos
			output, err := p.rawString()
			if err != nil {
				return err
			}
			if err := p.sortedAfter(at, "output name", previousOutput, output, firstOutput); err != nil {
				return err
			}
			previousOutput, firstOutput = output, false
			outputs = append(outputs, output)
			return nil
		})
		if err != nil {
			return err
		}
		d.InputDrvs[path] = outputs
		return p.expect(")")
	})
}

func (p *parser) inputSrcs(d *Derivation) error {
	previous, first := "", true
	return p.list(func() error {
		at := p.pos
		path, err := p.storePath()
		if err != nil {
			return err
		}
		if err := p.sortedAfter(at, "input source", previous, path, first); err != nil {
			return err
		}
		previous, first = path, false
		d.InputSrcs = append(d.InputSrcs, path)
		return nil
	})
}

func (p *parser) env(d *Derivation) error {
	previous, first := "", true
	return p.list(func() error {
		if err := p.expect("("); err != nil {
			return err
		}
		at := p.pos
		key, err := p.escapedString()
		if err != nil {
			return err
		}
		if err := p.sortedAfter(at, "environment variable", previous, key, first); err != nil {
			return err
		}
		previous, first = key, false
		if err := p.expect(","); err != nil {
			return err
		}
		value, err := p.escapedString()
		if err != nil {
			return err
		}
		d.Env[key] = value
		return p.expect(")")
	})
}
