package builtins

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

// This file turns values into JSON text (toJSON, nixl eval --json) and
// JSON text into values (fromJSON). Nix does both with the nlohmann JSON
// library; the layout of the output, the number formats and the wording
// of every error follow that library, because they show through in Nix's
// own messages.

// nixDefaultMaxCallDepth is Nix's default max-call-depth, which bounds
// how deeply toJSON and toXML descend into nested values.
const nixDefaultMaxCallDepth = 10000

// serialDepthLimit is the nesting bound for toJSON and toXML: the
// --max-call-depth given, or Nix's default.
func serialDepthLimit(e *eval.Eval) int {
	if e.MaxCallDepth > 0 {
		return e.MaxCallDepth
	}
	return nixDefaultMaxCallDepth
}

var (
	symJSONToString = eval.Intern("__toString")
	symJSONOutPath  = eval.Intern("outPath")
)

// jsonEncoder writes one value as JSON.
type jsonEncoder struct {
	e *eval.Eval
	// b is the text being written; full pieces of it move to done, and
	// the document is joined once at the end. Growing one slice to
	// megabytes copied the text about four times over and touched as
	// much fresh memory.
	b          []byte
	done       [][]byte
	doneLength int
	// shapes holds, per nesting level, the shape of the last set written
	// there.
	shapes []*jsonShape
	level  int
	ctx    eval.ContextBuilder
	strict bool
	// depth is the nesting so far plus the calls already on Nix's stack
	// when the conversion starts; limit is where it overflows.
	depth, limit int
	// utf8Err is the first string that is not valid UTF-8. Nix builds the
	// whole document before printing it, and only printing checks the
	// encoding, so the error is reported once everything else succeeded.
	utf8Err string
}

// encodeJSON converts v; base counts the evaluation frames Nix has on its
// stack before the conversion starts (they count towards the depth limit).
func encodeJSON(e *eval.Eval, v eval.Value, pos lang.Pos, strict bool, base int) (string, eval.Context, error) {
	j := &jsonEncoder{e: e, strict: strict, depth: base, limit: serialDepthLimit(e)}
	if err := j.value(&v, pos, true); err != nil {
		return "", nil, err
	}
	if j.utf8Err != "" {
		return "", nil, eval.Errorf(eval.ErrEval, lang.NoPos, "JSON serialization error: [json.exception.type_error.316] %s", j.utf8Err)
	}
	if len(j.done) == 0 {
		// The buffer is not used again: the string takes it over, as
		// strings.Builder does.
		return unsafe.String(unsafe.SliceData(j.b), len(j.b)), j.ctx.Context(), nil
	}
	var text strings.Builder
	text.Grow(j.doneLength + len(j.b))
	for _, piece := range j.done {
		text.Write(piece)
		jsonPieces.Put(&piece)
	}
	text.Write(j.b)
	jsonPieces.Put(&j.b)
	return text.String(), j.ctx.Context(), nil
}

// jsonPiece is the size from which the text being written is set aside.
const jsonPiece = 64 << 10

// jsonPieces keeps the pieces of a long text once joined, for the next
// one: fresh memory for each piece cost a page fault per 4 KiB written.
var jsonPieces = sync.Pool{New: func() any {
	b := make([]byte, 0, jsonPiece+jsonPiece/4)
	return &b
}}

func (j *jsonEncoder) enter(pos lang.Pos) error {
	if j.depth > j.limit {
		return eval.Errorf(eval.ErrStackOverflow, pos, "stack overflow; max-call-depth exceeded")
	}
	j.depth++
	return nil
}

// serialForce forces v when converting strictly. Otherwise a value
// that was never evaluated stays a thunk (and cannot be converted).
func serialForce(e *eval.Eval, v *eval.Value, pos lang.Pos, strict bool) error {
	if strict || !v.IsThunk() {
		return e.ForceAt(v, pos)
	}
	if serialPending(e, *v) {
		return nil
	}
	return e.ForceAt(v, pos)
}

// serialPending reports whether v is a thunk that has not been
// evaluated yet, without evaluating it: the short printer shows such a
// thunk (and only such a thunk) as «thunk».
func serialPending(e *eval.Eval, v eval.Value) bool {
	return v.IsThunk() && e.ShowValueShort(v) == "«thunk»"
}

// value writes the value in slot, forced in place: a set's or list's
// thunk is then garbage once written, not kept alive by its slot (the
// data a toJSON call walks often stays live).
func (j *jsonEncoder) value(slot *eval.Value, pos lang.Pos, copyToStore bool) error {
	if err := j.enter(pos); err != nil {
		return err
	}
	defer func() { j.depth-- }()
	if err := serialForce(j.e, slot, pos, j.strict); err != nil {
		return err
	}
	v := *slot
	if len(j.b) >= jsonPiece {
		j.done = append(j.done, j.b)
		j.doneLength += len(j.b)
		j.b = (*jsonPieces.Get().(*[]byte))[:0]
	}
	switch v.Kind() {
	case eval.KindInt:
		j.b = strconv.AppendInt(j.b, v.IntValue(), 10)
	case eval.KindBool:
		j.b = strconv.AppendBool(j.b, v.BoolValue())
	case eval.KindNull:
		j.b = append(j.b, "null"...)
	case eval.KindFloat:
		j.b = appendJSONFloat(j.b, v.FloatValue())
	case eval.KindString:
		if n := j.doneLength + len(j.b) + len(v.Str()); n >= eval.SizeCheckFrom() {
			if err := j.e.CheckStringSize(n, pos); err != nil {
				return err
			}
		}
		j.ctx.Add(v.Context())
		j.str(v.Str())
	case eval.KindPath:
		if !copyToStore {
			j.str(v.Str())
			break
		}
		p, err := j.e.CopyPathToStore(v.Str(), pos)
		if err != nil {
			return err
		}
		j.ctx.Add(eval.NewContext(eval.ContextOpaque(p)))
		j.str(p)
	case eval.KindList:
		j.b = append(j.b, '[')
		elems := v.ListValue()
		for i := range elems {
			eval.PrefetchAhead(elems, i)
			if i > 0 {
				j.b = append(j.b, ',')
			}
			if err := j.value(&elems[i], pos, copyToStore); err != nil {
				return eval.AddTrace(err, pos, "while evaluating list element at index %d", i)
			}
		}
		j.b = append(j.b, ']')
	case eval.KindAttrs:
		peeled, through := v, false
		if attrs := v.AttrsValue(); attrs.Get(symJSONToString) != nil || attrs.Get(symJSONOutPath) != nil {
			var err error
			if peeled, through, err = jsonPeel(j.e, v, pos, j.enter, func() { j.depth-- }); err != nil {
				return err
			}
		}
		if peeled.Kind() != eval.KindAttrs {
			// A path that came out of __toString is kept as it is, as Nix
			// historically did.
			return j.value(&peeled, pos, copyToStore && !through)
		}
		return j.writeSet(peeled.AttrsValue(), copyToStore)
	default:
		p := pos
		if v.Kind() == eval.KindLambda {
			p = v.Closure().Pos()
		}
		return eval.TypeErrorf(p, "cannot convert %s to JSON", v.ShowType())
	}
	return nil
}

// jsonPeel follows __toString and outPath, as toJSON does
// before it looks at a set: a set with __toString becomes what that
// returns, a set with outPath becomes its outPath, repeatedly. It reports
// whether a __toString was called on the way. enter and leave count the
// nesting towards the depth limit.
func jsonPeel(e *eval.Eval, v eval.Value, pos lang.Pos, enter func(lang.Pos) error, leave func()) (eval.Value, bool, error) {
	through := false
	var peel func(pos lang.Pos, v eval.Value) (eval.Value, error)
	peel = func(pos lang.Pos, v eval.Value) (eval.Value, error) {
		if err := e.ForceAt(&v, pos); err != nil {
			return eval.Value{}, err
		}
		if v.Kind() != eval.KindAttrs {
			if through && v.Kind() != eval.KindString && v.Kind() != eval.KindPath {
				return eval.Value{}, eval.TypeErrorf(pos, "`__toString` should return a string, but got %s: %s", v.ShowType(), e.ShowValueShort(v))
			}
			return v, nil
		}
		attrs := v.AttrsValue()
		if a := attrs.Get(symJSONToString); a != nil {
			r, err := e.CallFunction(a.Value, []eval.Value{v}, a.Pos())
			if err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while calling the `__toString` attribute")
			}
			through = true
			if err := enter(pos); err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while using the result of the `__toString` attribute")
			}
			defer leave()
			if err := e.ForceAt(&r, a.Pos()); err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while evaluating the result of the `__toString` attribute")
			}
			res, err := peel(a.Pos(), r)
			if err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while using the result of the `__toString` attribute")
			}
			return res, nil
		}
		if a := attrs.Get(symJSONOutPath); a != nil {
			if err := e.ForceAt(&a.Value, a.Pos()); err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while evaluating the `outPath` attribute")
			}
			if err := enter(pos); err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while using the `outPath` attribute")
			}
			defer leave()
			res, err := peel(a.Pos(), a.Value)
			if err != nil {
				return eval.Value{}, eval.AddTrace(err, a.Pos(), "while using the `outPath` attribute")
			}
			return res, nil
		}
		if through {
			return eval.Value{}, eval.TypeErrorf(pos, "`__toString` must return a string, but got %s: %s", v.ShowType(), e.ShowValueShort(v))
		}
		return v, nil
	}
	r, err := peel(pos, v)
	return r, through, err
}

// writeSet writes a set, its attributes in Nix's order.
func (j *jsonEncoder) writeSet(attrs eval.Attrs, copyToStore bool) error {
	if j.level == len(j.shapes) {
		j.shapes = append(j.shapes, &jsonShape{})
	}
	sh := j.shapes[j.level]
	if !sh.of(attrs) {
		sh.set(attrs)
	}
	j.level++
	j.b = append(j.b, '{')
	for i, k := range sh.order {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		if j.utf8Err == "" {
			j.utf8Err = sh.keyErr[i]
		}
		j.b = append(j.b, sh.keys[i]...)
		a := &attrs[k]
		if err := j.value(&a.Value, a.Pos(), copyToStore); err != nil {
			j.level--
			return eval.AddTrace(err, a.Pos(), "while evaluating attribute '%s'", a.Name.String())
		}
	}
	j.b = append(j.b, '}')
	j.level--
	return nil
}

// jsonShape is a set's names (in symbol order), the order Nix writes
// them in (lexicographic: indices into the set), and each one written
// as a key ("name":) with its UTF-8 error, if any. The sets of a list of
// records share one shape, so most sets reuse the last one's at their
// level instead of sorting and escaping their names again.
type jsonShape struct {
	names  []eval.Sym
	order  []int
	keys   [][]byte
	keyErr []string
}

// of reports whether attrs has this shape.
func (sh *jsonShape) of(attrs eval.Attrs) bool {
	if len(attrs) != len(sh.names) {
		return false
	}
	for i := range attrs {
		if attrs[i].Name != sh.names[i] {
			return false
		}
	}
	return true
}

func (sh *jsonShape) set(attrs eval.Attrs) {
	sh.names, sh.order = sh.names[:0], sh.order[:0]
	sh.keys, sh.keyErr = sh.keys[:0], sh.keyErr[:0]
	for i := range attrs {
		sh.names = append(sh.names, attrs[i].Name)
	}
	for _, a := range attrs.Lexicographic() {
		// a points into attrs: its index is its offset.
		k := int((uintptr(unsafe.Pointer(a)) - uintptr(unsafe.Pointer(&attrs[0]))) / unsafe.Sizeof(*a))
		name := a.Name.String()
		sh.order = append(sh.order, k)
		sh.keys = append(sh.keys, append(appendJSONString(nil, name), ':'))
		sh.keyErr = append(sh.keyErr, checkJSONUTF8(name))
	}
}

// str writes a JSON string the way nlohmann's dump does without
// ensure_ascii: short escapes where JSON has them, \u00xx (lowercase) for
// other control characters, everything else as is. Invalid UTF-8 is
// remembered as the library's error.
func (j *jsonEncoder) str(s string) {
	if j.utf8Err == "" {
		j.utf8Err = checkJSONUTF8(s)
	}
	j.b = appendJSONString(j.b, s)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// utf8Follow gives, for a leading byte, the ranges its continuation bytes
// must fall in (the well-formed sequences of the Unicode standard, which
// is what nlohmann's decoder accepts); nil for a byte that cannot start a
// sequence.
func utf8Follow(c byte) [][2]byte {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return [][2]byte{{0x80, 0xBF}}
	case c == 0xE0:
		return [][2]byte{{0xA0, 0xBF}, {0x80, 0xBF}}
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		return [][2]byte{{0x80, 0xBF}, {0x80, 0xBF}}
	case c == 0xED:
		return [][2]byte{{0x80, 0x9F}, {0x80, 0xBF}}
	case c == 0xF0:
		return [][2]byte{{0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}
	case c >= 0xF1 && c <= 0xF3:
		return [][2]byte{{0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}
	case c == 0xF4:
		return [][2]byte{{0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}}
	}
	return nil
}

// checkJSONUTF8 returns nlohmann's message for the first encoding error
// in s, or "".
func checkJSONUTF8(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			i++
			continue
		}
		follow := utf8Follow(c)
		if follow == nil {
			return fmt.Sprintf("invalid UTF-8 byte at index %d: 0x%02X", i, c)
		}
		i++
		for _, r := range follow {
			if i >= len(s) {
				return fmt.Sprintf("incomplete UTF-8 string; last byte: 0x%02X", s[len(s)-1])
			}
			if s[i] < r[0] || s[i] > r[1] {
				return fmt.Sprintf("invalid UTF-8 byte at index %d: 0x%02X", i, s[i])
			}
			i++
		}
	}
	return ""
}

// appendJSONFloat formats f as nlohmann does: the shortest digits that
// read back as f, in fixed notation when the decimal point falls within
// 15 digits (with ".0" added to whole numbers), else as d.ddde+XX.
// Infinities and NaN, which JSON lacks, become null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
		f = -f
	}
	if f == 0 {
		return append(b, "0.0"...)
	}
	// Shortest round-trip digits and the decimal exponent.
	es := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(es, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	k := len(digits)
	n := exp + 1 // position of the decimal point relative to the digits
	const minExp, maxExp = -4, 15
	switch {
	case k <= n && n <= maxExp:
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", n-k)...)
		return append(b, ".0"...)
	case 0 < n && n <= maxExp:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		return append(b, digits[n:]...)
	case minExp < n && n <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -n)...)
		return append(b, digits...)
	}
	b = append(b, digits[0])
	if k > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	e := n - 1
	if e < 0 {
		b = append(b, '-')
		e = -e
	} else {
		b = append(b, '+')
	}
	if e < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(e), 10)
}

// ---- parsing ----

// jsonToken is a token of nlohmann's lexer.
type jsonToken int

const (
	jsonUninitialized jsonToken = iota
	jsonTrue
	jsonFalse
	jsonNull
	jsonString
	jsonUnsigned
	jsonInteger
	jsonFloat
	jsonBeginArray
	jsonBeginObject
	jsonEndArray
	jsonEndObject
	jsonNameSeparator
	jsonValueSeparator
	jsonParseError
	jsonEndOfInput
	jsonLiteralOrValue
)

func (t jsonToken) name() string {
	switch t {
	case jsonUninitialized:
		return "<uninitialized>"
	case jsonTrue:
		return "true literal"
	case jsonFalse:
		return "false literal"
	case jsonNull:
		return "null literal"
	case jsonString:
		return "string literal"
	case jsonUnsigned, jsonInteger, jsonFloat:
		return "number literal"
	case jsonBeginArray:
		return "'['"
	case jsonBeginObject:
		return "'{'"
	case jsonEndArray:
		return "']'"
	case jsonEndObject:
		return "'}'"
	case jsonNameSeparator:
		return "':'"
	case jsonValueSeparator:
		return "','"
	case jsonParseError:
		return "<parse error>"
	case jsonEndOfInput:
		return "end of input"
	case jsonLiteralOrValue:
		return "'[', '{', or a literal"
	}
	return "unknown token"
}

const jsonEOF = -1

// jsonLexer reproduces nlohmann's lexer, including how it counts
// positions and what it calls the "last read" text in messages.
type jsonLexer struct {
	src       string
	next      int
	current   int
	nextUnget bool
	// position
	charsTotal, charsLine, lines int
	// tokenStart is where the text read since the last reset begins in
	// src: nlohmann's token_string, kept as a slice of src (tokenBytes)
	// rather than copied byte by byte.
	tokenStart  int
	buf         []byte
	errMsg      string
	valUnsigned uint64
	valInteger  int64
	valFloat    float64
}

func (l *jsonLexer) get() int {
	l.charsTotal++
	l.charsLine++
	if l.nextUnget {
		l.nextUnget = false
	} else if l.next < len(l.src) {
		l.current = int(l.src[l.next])
		l.next++
	} else {
		l.current = jsonEOF
	}
	if l.current == '\n' {
		l.lines++
		l.charsLine = 0
	}
	return l.current
}

func (l *jsonLexer) unget() {
	l.nextUnget = true
	l.charsTotal--
	if l.charsLine == 0 {
		if l.lines > 0 {
			l.lines--
		}
	} else {
		l.charsLine--
	}
}

// tokenBytes is the text read since the last reset: get appends each
// byte it reads and unget takes the last one back, and the bytes read are
// consecutive in src (reset is never called with a byte ungotten).
func (l *jsonLexer) tokenBytes() string {
	end := l.next
	if l.nextUnget && l.current != jsonEOF {
		end--
	}
	return l.src[l.tokenStart:max(end, l.tokenStart)]
}

func (l *jsonLexer) reset() {
	l.buf = l.buf[:0]
	l.tokenStart = l.next
	if l.current != jsonEOF {
		l.tokenStart-- // the byte just read
	}
}

// tokenText is the "last read" text: control characters as <U+XXXX>.
func (l *jsonLexer) tokenText() string {
	var b strings.Builder
	for _, c := range []byte(l.tokenBytes()) {
		if c <= 0x1F {
			fmt.Fprintf(&b, "<U+%04X>", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (l *jsonLexer) position() string {
	return fmt.Sprintf("line %d, column %d", l.lines+1, l.charsLine)
}

func (l *jsonLexer) scan() jsonToken {
	if l.charsTotal == 0 && !l.skipBOM() {
		l.errMsg = "invalid BOM; must be 0xEF 0xBB 0xBF if given"
		return jsonParseError
	}
	for {
		c := l.get()
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
	}
	switch l.current {
	case '[':
		return jsonBeginArray
	case ']':
		return jsonEndArray
	case '{':
		return jsonBeginObject
	case '}':
		return jsonEndObject
	case ':':
		return jsonNameSeparator
	case ',':
		return jsonValueSeparator
	case 't':
		return l.scanLiteral("true", jsonTrue)
	case 'f':
		return l.scanLiteral("false", jsonFalse)
	case 'n':
		return l.scanLiteral("null", jsonNull)
	case '"':
		return l.scanString()
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return l.scanNumber()
	case 0, jsonEOF:
		return jsonEndOfInput
	}
	l.errMsg = "invalid literal"
	return jsonParseError
}

func (l *jsonLexer) skipBOM() bool {
	if l.get() == 0xEF {
		return l.get() == 0xBB && l.get() == 0xBF
	}
	l.unget()
	return true
}

func (l *jsonLexer) scanLiteral(lit string, t jsonToken) jsonToken {
	for i := 1; i < len(lit); i++ {
		if l.get() != int(lit[i]) {
			l.errMsg = "invalid literal"
			return jsonParseError
		}
	}
	return t
}

var jsonControlNames = [...]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
}

// jsonEscapes maps the character after a backslash to the byte it
// stands for (0: not a one-character escape).
var jsonEscapes = [128]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (l *jsonLexer) codepoint() int {
	cp := 0
	for _, shift := range [...]uint{12, 8, 4, 0} {
		c := l.get()
		switch {
		case c >= '0' && c <= '9':
			cp += (c - '0') << shift
		case c >= 'A' && c <= 'F':
			cp += (c - 'A' + 10) << shift
		case c >= 'a' && c <= 'f':
			cp += (c - 'a' + 10) << shift
		default:
			return -1
		}
	}
	return cp
}

func (l *jsonLexer) scanString() jsonToken {
	l.reset()
	for {
		c := l.get()
		switch {
		case c == jsonEOF:
			l.errMsg = "invalid string: missing closing quote"
			return jsonParseError
		case c == '"':
			return jsonString
		case c == '\\':
			switch e := l.get(); {
			case e >= 0 && e < len(jsonEscapes) && jsonEscapes[e] != 0:
				l.buf = append(l.buf, jsonEscapes[e])
			case e == 'u':
				cp1 := l.codepoint()
				cp := cp1
				if cp1 == -1 {
					l.errMsg = "invalid string: '\\u' must be followed by 4 hex digits"
					return jsonParseError
				}
				if cp1 >= 0xD800 && cp1 <= 0xDBFF {
					if l.get() == '\\' && l.get() == 'u' {
						cp2 := l.codepoint()
						if cp2 == -1 {
							l.errMsg = "invalid string: '\\u' must be followed by 4 hex digits"
							return jsonParseError
						}
						if cp2 < 0xDC00 || cp2 > 0xDFFF {
							l.errMsg = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"
							return jsonParseError
						}
						cp = (cp1-0xD800)<<10 + (cp2 - 0xDC00) + 0x10000
					} else {
						l.errMsg = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"
						return jsonParseError
					}
				} else if cp1 >= 0xDC00 && cp1 <= 0xDFFF {
					l.errMsg = "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF"
					return jsonParseError
				}
				l.buf = jsonAppendUTF8(l.buf, cp)
			default:
				l.errMsg = "invalid string: forbidden character after backslash"
				return jsonParseError
			}
		case c < 0x20:
			msg := fmt.Sprintf("invalid string: control character U+%04X (%s) must be escaped to \\u%04X", c, jsonControlNames[c], c)
			switch c {
			case '\b':
				msg += " or \\b"
			case '\t':
				msg += " or \\t"
			case '\n':
				msg += " or \\n"
			case '\f':
				msg += " or \\f"
			case '\r':
				msg += " or \\r"
			}
			l.errMsg = msg
			return jsonParseError
		case c < 0x80:
			l.buf = append(l.buf, byte(c))
		default:
			follow := utf8Follow(byte(c))
			if follow == nil {
				l.errMsg = "invalid string: ill-formed UTF-8 byte"
				return jsonParseError
			}
			l.buf = append(l.buf, byte(c))
			for _, r := range follow {
				n := l.get()
				if n == jsonEOF || byte(n) < r[0] || byte(n) > r[1] {
					l.errMsg = "invalid string: ill-formed UTF-8 byte"
					return jsonParseError
				}
				l.buf = append(l.buf, byte(n))
			}
		}
	}
}

// jsonAppendUTF8 encodes a code point (surrogates included, as nlohmann does).
func jsonAppendUTF8(b []byte, cp int) []byte {
	switch {
	case cp < 0x80:
		return append(b, byte(cp))
	case cp <= 0x7FF:
		return append(b, byte(0xC0|cp>>6), byte(0x80|cp&0x3F))
	case cp <= 0xFFFF:
		return append(b, byte(0xE0|cp>>12), byte(0x80|cp>>6&0x3F), byte(0x80|cp&0x3F))
	}
	return append(b, byte(0xF0|cp>>18), byte(0x80|cp>>12&0x3F), byte(0x80|cp>>6&0x3F), byte(0x80|cp&0x3F))
}

func jsonIsDigit(c int) bool { return c >= '0' && c <= '9' }

func (l *jsonLexer) scanNumber() jsonToken {
	l.reset()
	t := jsonUnsigned
	add := func() { l.buf = append(l.buf, byte(l.current)) }
	add()
	state := "any1"
	switch l.current {
	case '-':
		t = jsonInteger
		c := l.get()
		switch {
		case c == '0':
			add()
			state = "zero"
		case jsonIsDigit(c):
			add()
			state = "any1"
		default:
			l.errMsg = "invalid number; expected digit after '-'"
			return jsonParseError
		}
	case '0':
		state = "zero"
	}
	for state != "done" {
		c := l.get()
		switch state {
		case "zero":
			switch {
			case c == '.':
				add()
				state = "decimal1"
			case c == 'e' || c == 'E':
				add()
				state = "exponent"
			default:
				state = "done"
			}
		case "any1":
			switch {
			case jsonIsDigit(c):
				add()
			case c == '.':
				add()
				state = "decimal1"
			case c == 'e' || c == 'E':
				add()
				state = "exponent"
			default:
				state = "done"
			}
		case "decimal1":
			t = jsonFloat
			if !jsonIsDigit(c) {
				l.errMsg = "invalid number; expected digit after '.'"
				return jsonParseError
			}
			add()
			state = "decimal2"
		case "decimal2":
			switch {
			case jsonIsDigit(c):
				add()
			case c == 'e' || c == 'E':
				add()
				state = "exponent"
			default:
				state = "done"
			}
		case "exponent":
			t = jsonFloat
			switch {
			case c == '+' || c == '-':
				add()
				state = "sign"
			case jsonIsDigit(c):
				add()
				state = "any2"
			default:
				l.errMsg = "invalid number; expected '+', '-', or digit after exponent"
				return jsonParseError
			}
		case "sign":
			if !jsonIsDigit(c) {
				l.errMsg = "invalid number; expected digit after exponent sign"
				return jsonParseError
			}
			add()
			state = "any2"
		case "any2":
			if jsonIsDigit(c) {
				add()
			} else {
				state = "done"
			}
		}
	}
	l.unget()
	s := string(l.buf)
	switch t {
	case jsonUnsigned:
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			l.valUnsigned = u
			return jsonUnsigned
		}
	case jsonInteger:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			l.valInteger = i
			return jsonInteger
		}
	}
	// Floats, and integers too large for 64 bits.
	f, _ := strconv.ParseFloat(s, 64)
	l.valFloat = f
	return jsonFloat
}

// jsonFrame is an array or object being built.
type jsonFrame struct {
	array bool
	elems []eval.Value
	keys  []eval.Sym
	// index finds the keys of a large object (indexed says it is in use);
	// small objects are searched.
	index   map[eval.Sym]int
	indexed bool
	key     eval.Sym
}

// jsonIndexAt is the number of keys from which an object is indexed.
const jsonIndexAt = 16

// find returns the position of key in an object, or -1.
func (f *jsonFrame) find(key eval.Sym) int {
	if f.indexed {
		if i, ok := f.index[key]; ok {
			return i
		}
		return -1
	}
	return slices.Index(f.keys, key)
}

// jsonParser builds a value from JSON text as Nix's fromJSON does.
type jsonParser struct {
	l     jsonLexer
	last  jsonToken
	stack []*jsonFrame
	free  []*jsonFrame
	// result holds the value when the stack is empty.
	result eval.Value
	// keys remembers recent keys by their length and last byte: a
	// document repeats a few keys many times, and a hit skips the
	// symbol table (its lock and its map).
	keys [64]jsonKey
}

type jsonKey struct {
	name string
	sym  eval.Sym
}

// parseJSON parses s. Syntax errors are JSONParseErrors in Nix and get
// the "while decoding a JSON string" frame; the other errors (null bytes,
// integers out of range) do not, so the two are told apart.
func parseJSON(s string) (v eval.Value, syntaxErr string, err error) {
	p := &jsonParser{l: jsonLexer{src: s}}
	return p.parse()
}

func (p *jsonParser) token() jsonToken {
	p.last = p.l.scan()
	return p.last
}

func (p *jsonParser) syntaxError(expected jsonToken, context string) string {
	msg := "syntax error "
	if context != "" {
		msg += "while parsing " + context + " "
	}
	msg += "- "
	if p.last == jsonParseError {
		msg += p.l.errMsg + "; last read: '" + p.l.tokenText() + "'"
	} else {
		msg += "unexpected " + p.last.name()
	}
	if expected != jsonUninitialized {
		msg += "; expected " + expected.name()
	}
	return "[json.exception.parse_error.101] parse error at " + p.l.position() + ": " + msg
}

// add stores a finished value in the innermost container (or as the
// result).
func (p *jsonParser) add(v eval.Value) {
	if len(p.stack) == 0 {
		p.result = v
		return
	}
	f := p.stack[len(p.stack)-1]
	if f.array {
		f.elems = append(f.elems, v)
		return
	}
	// Objects: a repeated key keeps the last value.
	if i := f.find(f.key); i >= 0 {
		f.elems[i] = v
		return
	}
	if !f.indexed && len(f.keys) >= jsonIndexAt {
		if f.index == nil {
			f.index = map[eval.Sym]int{}
		}
		for i, k := range f.keys {
			f.index[k] = i
		}
		f.indexed = true
	}
	if f.indexed {
		f.index[f.key] = len(f.elems)
	}
	f.keys = append(f.keys, f.key)
	f.elems = append(f.elems, v)
}

// push opens a container, reusing the frame of a closed one: a document
// has many small containers, and their values are copied out at the end.
func (p *jsonParser) push(array bool) {
	var f *jsonFrame
	if n := len(p.free); n > 0 {
		f = p.free[n-1]
		p.free = p.free[:n-1]
		f.elems, f.keys = f.elems[:0], f.keys[:0]
		if f.indexed {
			clear(f.index)
			f.indexed = false
		}
	} else {
		f = &jsonFrame{}
	}
	f.array = array
	p.stack = append(p.stack, f)
}

// key sets the key of the next member of the innermost object. Keys
// are interned straight from the lexer's buffer: most are repeated, and
// a known key needs no string of its own.
func (p *jsonParser) key(name []byte) error {
	slot := &p.keys[0]
	if len(name) > 0 {
		slot = &p.keys[(len(name)*7+int(name[len(name)-1]))%len(p.keys)]
	}
	if slot.name != string(name) {
		if bytes.IndexByte(name, 0) >= 0 {
			return serialNoNullByte(string(name))
		}
		sym := eval.InternBytes(name)
		*slot = jsonKey{name: sym.String(), sym: sym}
	}
	p.stack[len(p.stack)-1].key = slot.sym
	return nil
}

func (p *jsonParser) end() {
	f := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	var v eval.Value
	if f.array {
		var elems []eval.Value
		switch n := len(f.elems); {
		case n >= jsonKeepElems:
			// A long array takes the frame's buffer, which another long
			// one would rarely reuse: no copy.
			elems = f.elems[:n:n]
			f.elems = nil
		case n > 0:
			elems = slices.Clone(f.elems)
		}
		v = eval.List(elems)
	} else {
		b := eval.NewAttrsBuilder(len(f.keys))
		for i, k := range f.keys {
			b.Add(k, f.elems[i])
		}
		v = b.Value()
	}
	clear(f.elems) // no stale references from the free list
	p.free = append(p.free, f)
	p.add(v)
}

// jsonKeepElems is the length from which an array keeps its frame's
// buffer.
const jsonKeepElems = 1024

// serialNoNullByte rejects strings Nix cannot hold.
func serialNoNullByte(s string) error {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	return eval.Errorf(eval.ErrEval, lang.NoPos, "input string '%s' cannot be represented as Nix string because it contains null bytes", strings.ReplaceAll(s, "\x00", "␀"))
}

// parse follows nlohmann's sax_parse_internal: a loop with an explicit
// stack, so deep nesting needs no recursion.
func (p *jsonParser) parse() (eval.Value, string, error) {
	p.token()
	skipToState := false
	for {
		if !skipToState {
			switch p.last {
			case jsonBeginObject:
				p.push(false)
				if p.token() == jsonEndObject {
					p.end()
					break
				}
				if p.last != jsonString {
					return eval.Value{}, p.syntaxError(jsonString, "object key"), nil
				}
				if err := p.key(p.l.buf); err != nil {
					return eval.Value{}, "", err
				}
				if p.token() != jsonNameSeparator {
					return eval.Value{}, p.syntaxError(jsonNameSeparator, "object separator"), nil
				}
				p.token()
				continue
			case jsonBeginArray:
				p.push(true)
				if p.token() == jsonEndArray {
					p.end()
					break
				}
				continue
			case jsonFloat:
				f := p.l.valFloat
				if math.IsInf(f, 0) || math.IsNaN(f) {
					return eval.Value{}, "[json.exception.out_of_range.406] number overflow parsing '" + p.l.tokenText() + "'", nil
				}
				p.add(eval.Float(f))
			case jsonFalse:
				p.add(eval.False)
			case jsonTrue:
				p.add(eval.True)
			case jsonNull:
				p.add(eval.Null)
			case jsonInteger:
				p.add(eval.Int(p.l.valInteger))
			case jsonUnsigned:
				u := p.l.valUnsigned
				if u > math.MaxInt64 {
					return eval.Value{}, "", eval.Errorf(eval.ErrEval, lang.NoPos, "unsigned json number %d outside of Nix integer range", u)
				}
				p.add(eval.Int(int64(u)))
			case jsonString:
				s := string(p.l.buf)
				if err := serialNoNullByte(s); err != nil {
					return eval.Value{}, "", err
				}
				p.add(eval.String(s))
			case jsonParseError:
				return eval.Value{}, p.syntaxError(jsonUninitialized, "value"), nil
			case jsonEndOfInput:
				if p.l.charsTotal == 1 {
					return eval.Value{}, "[json.exception.parse_error.101] parse error at " + p.l.position() +
						": attempting to parse an empty input; check that your input string or stream contains the expected JSON", nil
				}
				return eval.Value{}, p.syntaxError(jsonLiteralOrValue, "value"), nil
			default:
				return eval.Value{}, p.syntaxError(jsonLiteralOrValue, "value"), nil
			}
		} else {
			skipToState = false
		}
		if len(p.stack) == 0 {
			// The value is complete: only the end of the input may follow.
			if p.token() != jsonEndOfInput {
				return eval.Value{}, p.syntaxError(jsonEndOfInput, "value"), nil
			}
			return p.result, "", nil
		}
		if p.stack[len(p.stack)-1].array {
			if p.token() == jsonValueSeparator {
				p.token()
				continue
			}
			if p.last == jsonEndArray {
				p.end()
				skipToState = true
				continue
			}
			return eval.Value{}, p.syntaxError(jsonEndArray, "array"), nil
		}
		if p.token() == jsonValueSeparator {
			if p.token() != jsonString {
				return eval.Value{}, p.syntaxError(jsonString, "object key"), nil
			}
			if err := p.key(p.l.buf); err != nil {
				return eval.Value{}, "", err
			}
			if p.token() != jsonNameSeparator {
				return eval.Value{}, p.syntaxError(jsonNameSeparator, "object separator"), nil
			}
			p.token()
			continue
		}
		if p.last == jsonEndObject {
			p.end()
			skipToState = true
			continue
		}
		return eval.Value{}, p.syntaxError(jsonEndObject, "object"), nil
	}
}
