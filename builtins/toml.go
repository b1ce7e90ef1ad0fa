package builtins

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// fromTOML parses TOML with go-toml (github.com/pelletier/go-toml/v2): it
// follows the TOML 1.0 specification (checked against the toml-test
// suite), is actively maintained, tells local dates, local times, local
// date-times and offset date-times apart, and reports errors with a line
// and column, which lets nixl lay its errors out the way toml11 (the
// library Nix uses) does.

// tomlTimestampsFeature is the experimental feature that makes fromTOML
// return dates and times instead of failing on them.
const tomlTimestampsFeature = "parse-toml-timestamps"

var (
	symTOMLType  = eval.Intern("_type")
	symTOMLValue = eval.Intern("value")
)

func primFromTOML(e *eval.Eval, args []eval.Value, pos lang.Pos) (eval.Value, error) {
	src, err := e.ForceStringNoCtx(args[0], lang.NoPos, argCtx(0, "fromTOML"))
	if err != nil {
		return eval.Value{}, err
	}
	v, msg := parseTOML(src, e.Features[tomlTimestampsFeature])
	if msg != "" {
		return eval.Value{}, eval.Errorf(eval.ErrEval, lang.NoPos, "while parsing TOML: %s", msg)
	}
	return v, nil
}

// parseTOML converts a TOML document; on failure it returns the text Nix
// puts after "while parsing TOML: ".
func parseTOML(src string, timestamps bool) (eval.Value, string) {
	var doc map[string]any
	if err := toml.Unmarshal([]byte(src), &doc); err != nil {
		return eval.Value{}, tomlErrorText(src, err)
	}
	v, err := tomlValue(doc, timestamps)
	if err != nil {
		return eval.Value{}, err.Error()
	}
	return v, ""
}

// tomlNullError is how Nix's null-byte error reads once it is caught as
// a C++ exception and printed inside the TOML message.
func tomlNullError(s string) error {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	return fmt.Errorf("error: input string '%s' cannot be represented as Nix string because it contains null bytes", strings.ReplaceAll(s, "\x00", "␀"))
}

func tomlValue(x any, timestamps bool) (eval.Value, error) {
	switch x := x.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b := eval.NewAttrsBuilder(len(keys))
		for _, k := range keys {
			if err := tomlNullError(k); err != nil {
				return eval.Value{}, err
			}
			v, err := tomlValue(x[k], timestamps)
			if err != nil {
				return eval.Value{}, err
			}
			b.AddString(k, v)
		}
		return b.Value(), nil
	case []any:
		elems := make([]eval.Value, len(x))
		for i, y := range x {
			v, err := tomlValue(y, timestamps)
			if err != nil {
				return eval.Value{}, err
			}
			elems[i] = v
		}
		return eval.List(elems), nil
	case string:
		if err := tomlNullError(x); err != nil {
			return eval.Value{}, err
		}
		return eval.String(x), nil
	case bool:
		return eval.Bool(x), nil
	case int64:
		return eval.Int(x), nil
	case float64:
		return eval.Float(x), nil
	case time.Time:
		return tomlTimestamp(tomlDate(x.Year(), int(x.Month()), x.Day())+"T"+
			tomlTime(x.Hour(), x.Minute(), x.Second(), x.Nanosecond())+tomlOffset(x), timestamps)
	case toml.LocalDateTime:
		return tomlTimestamp(tomlDate(x.Year, x.Month, x.Day)+"T"+tomlTime(x.Hour, x.Minute, x.Second, x.Nanosecond), timestamps)
	case toml.LocalDate:
		return tomlTimestamp(tomlDate(x.Year, x.Month, x.Day), timestamps)
	case toml.LocalTime:
		return tomlTimestamp(tomlTime(x.Hour, x.Minute, x.Second, x.Nanosecond), timestamps)
	case nil:
		return eval.Null, nil
	}
	return eval.Value{}, fmt.Errorf("unsupported value type in TOML")
}

// tomlTimestamp is a date or time: { _type = "timestamp"; value = "…"; }
// with the experimental feature, an error without it.
func tomlTimestamp(s string, enabled bool) (eval.Value, error) {
	if !enabled {
		return eval.Value{}, errors.New("Dates and times are not supported")
	}
	b := eval.NewAttrsBuilder(2)
	b.Add(symTOMLType, eval.String("timestamp"))
	b.Add(symTOMLValue, eval.String(s))
	return b.Value(), nil
}

func tomlDate(y, m, d int) string { return fmt.Sprintf("%04d-%02d-%02d", y, m, d) }

// tomlTime prints a time as toml11 does: fractions of a second in groups
// of three digits (milli, micro, nano), as many groups as needed.
func tomlTime(h, m, s, ns int) string {
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if ns == 0 {
		return out
	}
	milli, micro, nano := ns/1e6, ns/1e3%1000, ns%1000
	out += fmt.Sprintf(".%03d", milli)
	if micro != 0 || nano != 0 {
		out += fmt.Sprintf("%03d", micro)
		if nano != 0 {
			out += fmt.Sprintf("%03d", nano)
		}
	}
	return out
}

func tomlOffset(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "Z"
	}
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	minutes := off / 60
	return fmt.Sprintf("%c%02d:%02d", sign, minutes/60, minutes%60)
}

// tomlErrorText lays a syntax error out as toml11 does:
//
//	[error] TITLE
//	 --> fromTOML
//	   |
//	 1 | the line
//	   |    ^-- MESSAGE
//
// Integers out of range get toml11's own wording, with the caret just
// after the number.
func tomlErrorText(src string, err error) string {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return strings.TrimPrefix(err.Error(), "toml: ")
	}
	row, col := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	title, under := msg, "here"
	lines := strings.Split(src, "\n")
	line := ""
	if row >= 1 && row <= len(lines) {
		line = strings.TrimSuffix(lines[row-1], "\r")
	}
	for _, kind := range [...]struct{ goName, nixName, what string }{
		{"decimal", "dec", "digits"},
		{"hexadecimal", "hex", "value"},
		{"octal", "oct", "value"},
		{"binary", "bin", "value"},
	} {
		if msg == kind.goName+" number is too large to fit in a 64-bit signed integer" {
			title = fmt.Sprintf("toml::parse_%s_integer: too large integer: current max %s = 2^63", kind.nixName, kind.what)
			under = "must be < 2^63"
			end := col - 1
			for end < len(line) && strings.IndexByte("0123456789abcdefABCDEFxob_+-", line[end]) >= 0 {
				end++
			}
			col = end + 1
			break
		}
	}
	width := len(fmt.Sprint(row))
	pad := strings.Repeat(" ", width+2)
	var b strings.Builder
	fmt.Fprintf(&b, "[error] %s\n", title)
	b.WriteString(" --> fromTOML\n")
	fmt.Fprintf(&b, "%s|\n", pad)
	fmt.Fprintf(&b, " %*d | %s\n", width, row, line)
	if col < 1 {
		col = 1
	}
	fmt.Fprintf(&b, "%s| %s^-- %s\n", pad, strings.Repeat(" ", col-1), under)
	return b.String()
}
