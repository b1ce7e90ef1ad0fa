package derivation

import (
	"github.com/nixl-project/nixl/nixhash"

	"errors"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/realise/store"
)

const testDir store.Dir = "/tmp/nixl-test-store"

// A small valid derivation in testDir (recorded by Nix as the "plain" case).
const plainName = "plain"

var plainText = `Derive([("out","/tmp/nixl-test-store/92rw738s1bg1ch4zlg2j7xbxsxshp6zr-plain","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","plain"),("out","/tmp/nixl-test-store/92rw738s1bg1ch4zlg2j7xbxsxshp6zr-plain"),("system","x86_64-linux")])`

func TestPlainTextIsTheRecordedOne(t *testing.T) {
	cases := loadCases(t, "tmp-store")
	if got := string(goldenFile(t, "tmp-store", cases["plain"].DrvPath)); got != plainText {
		t.Fatalf("plainText is stale; recorded:\n%s", got)
	}
}

func TestWriterEscapesLikeNix(t *testing.T) {
	d := &Derivation{
		Name:      "x",
		Outputs:   map[string]Output{"out": {Path: "/p"}},
		InputDrvs: map[string][]string{"/b.drv": {"out", "dev", "out"}, "/a.drv": {"x"}},
		InputSrcs: []string{"/src2", "/src1", "/src2"},
		Platform:  "plat",
		Builder:   "b\"\\\n\r\t",
		Args:      []string{"z", "a"},
		Env:       map[string]string{"b": "2", "a": "1\x00\x7fé"},
	}
	want := `Derive([("out","/p","","")],[("/a.drv",["x"]),("/b.drv",["dev","out"])],["/src1","/src2"],"plat","b\"\\\n\r\t",["z","a"],[("a","1` + "\x00\x7fé" + `"),("b","2")])`
	if got := string(d.ATerm()); got != want {
		t.Errorf("ATerm:\n got %s\nwant %s", got, want)
	}
	if refs := d.References(); strings.Join(refs, " ") != "/a.drv /b.drv /src1 /src2" {
		t.Errorf("References = %v", refs)
	}
}

func TestParseRejectsMalformedInput(t *testing.T) {
	plainOut := "/tmp/nixl-test-store/92rw738s1bg1ch4zlg2j7xbxsxshp6zr-plain"
	replace := func(old, new string) string {
		if !strings.Contains(plainText, old) {
			t.Fatalf("%q not in plainText", old)
		}
		return strings.Replace(plainText, old, new, 1)
	}
	// at is the text at which the error must point (its first occurrence
	// in the input, plus skip bytes); "" for errors without position.
	tests := map[string]struct {
		text, wantErr, at string
		skip              int
	}{
		"empty":              {"", `expected "Derive("`, "", 0},
		"wrong constructor":  {"Derivation(", `expected "Derive("`, "Derivation", 0},
		"truncated":          {plainText[:40], "unterminated string", `"/tmp`, 0},
		"trailing newline":   {plainText + "\n", "trailing data", "\n", 0},
		"space after comma":  {replace(`"-c","echo`, `"-c", "echo`), `expected "\""`, ` "echo`, 0},
		"unknown escape":     {replace("echo hello", `echo\q`), `unknown escape sequence \q`, `\q`, 0},
		"raw newline":        {replace("echo hello", "echo\nhello"), "unescaped control character", "\nhello", 0},
		"unsorted env":       {replace(`("builder","/bin/sh"),("name","plain")`, `("name","plain"),("builder","/bin/sh")`), `environment variable "builder" is not sorted`, `"builder"`, 0},
		"duplicate env":      {replace(`("name","plain")`, `("name","plain"),("name","plain")`), "is a duplicate", `"name","plain"),`, 17},
		"path outside store": {replace(`[],[],"x86`, `[],["/etc/passwd"],"x86`), "not in the Nix store", `"/etc/passwd"`, 0},
		"output path sloppy": {replace(plainOut, "/tmp/nixl-test-store//92rw738s1bg1ch4zlg2j7xbxsxshp6zr-plain"), "not in canonical form", `"/tmp`, 0},
		"escape in platform": {replace(`"x86_64-linux"`, `"x86\"64"`), "backslash in a field Nix writes without escapes", `\"64`, 0},
		"hash without algo":  {replace(`-plain","","")`, `-plain","","abc")`), "output hash without a hash algorithm", `"abc"`, 0},
		"unknown algo":       {replace(`-plain","","")`, `-plain","sha3","00")`), "unknown hash algorithm 'sha3'", `"sha3"`, 0},
		"floating with path": {replace(`-plain","","")`, `-plain","r:sha256","")`), "floating output with a path", `"/tmp`, 0},
		"empty output name":  {replace(`[("out","/tmp`, `[("","/tmp`), "empty output name", `"",`, 0},
		"missing paren":      {strings.TrimSuffix(plainText, ")"), `expected ")"`, "", 0},
		"no comma between":   {replace(`"-c","echo`, `"-c""echo`), `expected "," or "]"`, `"echo`, 0},
		"unterminated list":  {`Derive([("out","` + plainOut + `","","")`, `expected "," or "]"`, "", 0},
		"no outputs":         {replace(`[("out","`+plainOut+`","","")]`, "[]"), "has no outputs", "", 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(testDir, plainName, []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			var perr *ParseError
			if tt.at == "" {
				return
			}
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if want := strings.Index(tt.text, tt.at) + tt.skip; perr.Offset != want {
				t.Errorf("offset %d, want %d (%v)", perr.Offset, want, err)
			}
		})
	}
	// Errors at the very end point just past the input.
	_, err := Parse(testDir, plainName, []byte(strings.TrimSuffix(plainText, ")")))
	var perr *ParseError
	if !errors.As(err, &perr) || perr.Offset != len(plainText)-1 {
		t.Errorf("missing final parenthesis: %v", err)
	}
}

func TestParseChecksFixedOutputs(t *testing.T) {
	// The fod-flat-sha256-base16 case, recorded by Nix.
	cases := loadCases(t, "tmp-store")
	text := string(goldenFile(t, "tmp-store", cases["fodFlatBase16"].DrvPath))
	name := drvName(cases["fodFlatBase16"].DrvPath)
	if _, err := Parse(testDir, name, []byte(text)); err != nil {
		t.Fatal(err)
	}
	const hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	mutations := map[string]struct{ old, new, wantErr string }{
		"uppercase hash": {hex, strings.ToUpper(hex), "not in lowercase base16"},
		"nix32 hash":     {hex, "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", "not in lowercase base16"},
		"short hash":     {hex, hex[:10], "wrong length"},
		"other method":   {`"sha256","` + hex, `"r:sha256","` + hex, "but its content address gives"},
		"missing path":   {cases["fodFlatBase16"].Outputs["out"] + `","sha256"`, `","sha256"`, "fixed output without a path"},
		"mixed kinds":    {`")],[],[]`, `"),("z","` + cases["plain"].Outputs["out"] + `","","")],[],[]`, "mixes output kinds"},
		"two fixed":      {`")],[],[]`, `"),("z","/tmp/nixl-test-store/00000000000000000000000000000000-x","sha256","` + hex + `")],[],[]`, "exactly one output"},
	}
	for label, m := range mutations {
		if !strings.Contains(text, m.old) {
			t.Fatalf("%s: %q not in the golden text", label, m.old)
		}
		mutated := strings.Replace(text, m.old, m.new, 1)
		if _, err := Parse(testDir, name, []byte(mutated)); err == nil || !strings.Contains(err.Error(), m.wantErr) {
			t.Errorf("%s: error = %v, want one containing %q", label, err, m.wantErr)
		}
	}
	// The path is computed from the derivation name: another name must fail.
	if _, err := Parse(testDir, "other-name", []byte(text)); err == nil {
		t.Error("fixed output path accepted under a different derivation name")
	}
}

func TestParseRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "a b", ".hidden"} {
		if _, err := Parse(testDir, name, []byte(plainText)); err == nil {
			t.Errorf("Parse accepted derivation name %q", name)
		}
	}
}

func TestTextContentAddressedOutput(t *testing.T) {
	// Newer Nix versions write "text:sha256" fixed outputs; their path is a
	// text path without references.
	h := nixhash.SumString(nixhash.SHA256, "contents")
	p, err := testDir.MakeTextPath("t", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := `Derive([("out","` + testDir.Path(p) + `","text:sha256","` + h.Base16() + `")],[],[],"x","/bin/sh",[],[])`
	d, err := Parse(testDir, "t", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	method, got, err := d.Outputs["out"].FixedHash()
	if err != nil || method != store.TextMethod || got != h {
		t.Errorf("FixedHash = %v, %v, %v", method, got, err)
	}
	if string(d.ATerm()) != text {
		t.Error("text-addressed derivation did not round-trip")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	storeDir := store.Dir(dir)
	cases := loadCases(t, "tmp-store")
	// Rewrite the recorded plain derivation into a store at dir.
	text := strings.ReplaceAll(plainText, string(testDir), dir)
	d, err := Parse(storeDir, plainName, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	drvPath, err := d.ComputePath(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(drvPath, text); err != nil {
		t.Fatal(err)
	}
	loaded, err := FileLoader(storeDir)(drvPath)
	if err != nil || loaded.Name != plainName || string(loaded.ATerm()) != text {
		t.Fatalf("FileLoader: %v, %v", loaded, err)
	}
	if _, err := ReadFile(storeDir, dir+"/"+strings.Repeat("0", 32)+"-missing.drv"); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
	if _, err := ReadFile(storeDir, cases["plain"].Outputs["out"]); err == nil {
		t.Error("ReadFile of a path outside the store succeeded")
	}
	notDrv := dir + "/" + strings.Repeat("0", 32) + "-plain"
	if _, err := ReadFile(storeDir, notDrv); err == nil || !strings.Contains(err.Error(), "not a derivation") {
		t.Errorf("ReadFile of a non-.drv name: %v", err)
	}
}

// appendEscaped skips ahead a word at a time; every byte value at every
// position of a string, around and across word boundaries, must come out
// as the plain byte-wise rule writes it.
func TestAppendEscapedEveryByteEveryPosition(t *testing.T) {
	reference := func(s string) string {
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		return b.String()
	}
	base := []byte("abcdefghijklmnopqrstuvwxyz0123")
	for n := 0; n <= len(base); n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				s := []byte(string(base[:n]))
				s[pos] = byte(c)
				if got, want := string(appendEscaped(nil, string(s))), reference(string(s)); got != want {
					t.Fatalf("appendEscaped(%q) = %s, want %s", s, got, want)
				}
			}
		}
	}
}
