package builtins

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The regex engine must give exactly the answers of Nix's (libstdc++'s).
// testdata/regex_golden.json holds patterns, subjects and the results
// nix-instantiate gave for them (builtins.match and builtins.split of each
// subject, or "invalid"/"space" for a rejected pattern); TestRegexGolden
// checks them. With nix-instantiate installed:
//
//	NIXL_REGEX_DIFF=1000 go test ./builtins -run TestRegexAgainstNix
//
// compares 1000 new random patterns (NIXL_REGEX_SEED picks them,
// NIXL_REGEX_DEEP=1 nests deeper), and NIXL_REGEX_RECORD=1 rewrites the
// golden file from Nix.

type regexGoldenCase struct {
	Pattern  string   `json:"pattern"`
	Subjects []string `json:"subjects"`
	Result   string   `json:"result"`
}

const regexGoldenFile = "testdata/regex_golden.json"

// regexEdgePatterns are hand-picked corner cases of the grammar and of
// libstdc++'s matcher; they go into the golden file with regexEdgeSubjects.
var regexEdgePatterns = []string{
	"a{1", "a{1,", "a{}", "a{,}", "{1}", "a{01}", "a{ 1}", "x{2147483648}", "x{4294967296}", "x{4294967297}",
	"a{65536}", "(a{1000}){100}", "a{99999}", "a{99990}", "a{49999}b{49999}",
	"[]", "[^]", "[]]", "[^]]", "[a", "[[:alpha:]", "[[:alpha]]", "[[.]]", "[[.-.]]", "[[=]]",
	"a\\", "\\(", "\\)", "\\{", "\\}", "\\]", "\\^", "\\$", "\\|", "\\*", "\\+", "\\?", "\\[", "\\\\", "\\/", "\\d", "\\n",
	"[[:DIGIT:]]+", "[[:Alpha:]]", "[[.NUL.]]", "[[.SPACE.]]", "[[.space.]-a]", "[a-[.c.]]", "[[:alpha:]-z]",
	"[%--]", "[--0]", "[a--]", "[---]", "[-]", "[^-]", "[]-a]", "[!-]-a]", "[a-c-e]", "[b-a]",
	"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "((((((((((a))))))))))", "(^a|b$)*", "(^|a)+", "($)*", "(^)*a", "a(^)*",
	"(a*)*b", "(a|b)*c", "(a*)+$", "(a?){3}", "(a?){2,}", "(a|ab|abc)*", "(a*|b*)*", "(a+|b+)*c?", "()*", "(()|a)*",
	"(a|())+", "x*y*", "^*", "$*", "a|*", "a||b", "|", "||a", "(|)", "(a|)*", "a**", "a*+?", "a{2}{3}", "a{0}",
	"(){0}", "a{0,0}", "(ab){0,}?", "(a*)(ab)*", "(a|ab)(c|bcd)(d*)", "((a)|b)*", "(a|b)*", "", "*", "(", ")",
}

var regexEdgeSubjects = []string{"", "a", "aa", "aaa", "ab", "abc", "abcabc", "aab", "abcd", "ba", "b", "c", "-", "]", "x", "A", "5", " ", "\\", "aaaaaaaaaa"}

func TestRegexGolden(t *testing.T) {
	data, err := os.ReadFile(regexGoldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []regexGoldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		if got := ourRegexResults(c.Pattern, c.Subjects); got != c.Result {
			t.Errorf("pattern %q subjects %q\nnix:  %s\nours: %s", c.Pattern, c.Subjects, c.Result, got)
		}
	}
}

// TestRegexAgainstNix compares the engine with nix-instantiate on random
// patterns and subjects, or records the golden file.
func TestRegexAgainstNix(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("NIXL_REGEX_DIFF"))
	record := os.Getenv("NIXL_REGEX_RECORD") != ""
	if n == 0 && !record {
		t.Skip("set NIXL_REGEX_DIFF=N to compare N random patterns with nix-instantiate")
	}
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate not found")
	}
	seed := int64(1)
	if s := os.Getenv("NIXL_REGEX_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	rng := rand.New(rand.NewSource(seed))
	depth := 3
	if os.Getenv("NIXL_REGEX_DEEP") != "" {
		depth = 5
	}
	dir := t.TempDir()
	if record {
		var cases []regexGoldenCase
		for _, p := range regexEdgePatterns {
			cases = append(cases, regexGoldenCase{p, regexEdgeSubjects, nixRegexResults(t, dir, p, regexEdgeSubjects)})
		}
		for i := 0; i < 150; i++ {
			p, subjects := randomRegexCase(rng, depth)
			cases = append(cases, regexGoldenCase{p, subjects, nixRegexResults(t, dir, p, subjects)})
		}
		// One case per line.
		var b strings.Builder
		b.WriteString("[\n")
		for i, c := range cases {
			line, _ := json.Marshal(c)
			b.Write(line)
			if i < len(cases)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("]\n")
		if err := os.WriteFile(regexGoldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	failures := 0
	for i := 0; i < n && failures < 20; i++ {
		pat, subjects := randomRegexCase(rng, depth)
		want := nixRegexResults(t, dir, pat, subjects)
		got := ourRegexResults(pat, subjects)
		if want != got {
			failures++
			t.Errorf("pattern %q subjects %q\nnix:  %s\nours: %s", pat, subjects, want, got)
		}
	}
}

func randomRegexCase(rng *rand.Rand, depth int) (string, []string) {
	pat := genPattern(rng, depth)
	if rng.Intn(6) == 0 {
		pat = mutatePattern(rng, pat)
	}
	var subjects []string
	for j := 0; j < 12; j++ {
		subjects = append(subjects, genSubject(rng))
	}
	return pat, subjects
}

func genPattern(rng *rand.Rand, depth int) string {
	if depth <= 0 {
		return genAtom(rng, 0)
	}
	switch rng.Intn(8) {
	case 0, 1:
		var b strings.Builder
		for k := rng.Intn(3) + 1; k > 0; k-- {
			b.WriteString(genPattern(rng, depth-1))
		}
		return b.String()
	case 2:
		return genPattern(rng, depth-1) + "|" + genPattern(rng, depth-1)
	case 3:
		return "(" + genPattern(rng, depth-1) + ")"
	case 4:
		return genAtom(rng, depth) + genQuant(rng)
	case 5:
		return "(" + genPattern(rng, depth-1) + ")" + genQuant(rng)
	default:
		return genAtom(rng, depth)
	}
}

func genAtom(rng *rand.Rand, depth int) string {
	switch rng.Intn(14) {
	case 0, 1, 2:
		return string("abc"[rng.Intn(3)])
	case 3:
		return "."
	case 4:
		return "^"
	case 5:
		return "$"
	case 6:
		return "\\."
	case 7:
		return ""
	case 8, 9:
		members := []string{"a", "b", "a-c", "[:alpha:]", "[:digit:]", "-", ".", "[.hyphen.]", "[=a=]", "[:space:]", "\\", "[", "^", "--/", "[:W:]", "[:w:]", "[:punct:]", "[.a.]-c", "[:foo:]", "b-a", "*", "{", "|"}
		var b strings.Builder
		b.WriteString("[")
		if rng.Intn(3) == 0 {
			b.WriteString("^")
		}
		if rng.Intn(5) == 0 {
			b.WriteString("]")
		}
		for k := rng.Intn(3) + 1; k > 0; k-- {
			b.WriteString(members[rng.Intn(len(members))])
		}
		b.WriteString("]")
		return b.String()
	case 10:
		return "1"
	case 11:
		return "-"
	default:
		if depth > 0 {
			return "(" + genPattern(rng, depth-1) + ")"
		}
		return "a"
	}
}

func genQuant(rng *rand.Rand) string {
	qs := []string{"*", "+", "?", "{0,1}", "{2}", "{1,}", "{0,2}", "{0}", "*?", "+*", "{1,3}"}
	return qs[rng.Intn(len(qs))]
}

func mutatePattern(rng *rand.Rand, p string) string {
	junk := "()[]{}|*+?^$\\.-,:=0123"
	i := rng.Intn(len(p) + 1)
	return p[:i] + string(junk[rng.Intn(len(junk))]) + p[i:]
}

func genSubject(rng *rand.Rand) string {
	alphabet := "aabbc1-. \n_A\\[]"
	var b strings.Builder
	for k := rng.Intn(14); k > 0; k-- {
		b.WriteByte(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

func nixRegexResults(t *testing.T, dir, pat string, subjects []string) string {
	data, _ := json.Marshal(map[string]any{"p": pat, "s": subjects})
	file := filepath.Join(dir, "case.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	expr := fmt.Sprintf(`let d = builtins.fromJSON (builtins.readFile %s); in map (s: [ (builtins.match d.p s) (builtins.split d.p s) ]) d.s`, file)
	out, err := exec.Command("nix-instantiate", "--eval", "--strict", "--json", "-E", expr).CombinedOutput()
	if err != nil {
		switch {
		case strings.Contains(string(out), "memory limit exceeded"):
			return "space"
		case strings.Contains(string(out), "invalid regular expression"):
			return "invalid"
		}
		return "error: " + string(out)
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return "bad json: " + string(out)
	}
	norm, _ := json.Marshal(v)
	return string(norm)
}

func ourRegexResults(pat string, subjects []string) string {
	prog, err := reCompile(pat)
	if err == errRegexSpace {
		return "space"
	}
	if err != nil {
		return "invalid"
	}
	groups := func(s string, g []reSub) []any {
		out := []any{}
		for _, x := range g[1:] {
			if x.matched {
				out = append(out, s[x.first:x.second])
			} else {
				out = append(out, nil)
			}
		}
		return out
	}
	var all []any
	for _, s := range subjects {
		var m any
		x := newReExec(prog, s)
		if x.match() {
			m = groups(s, x.results)
		}
		var sp []any
		ms := prog.findAll(s)
		if len(ms) == 0 {
			sp = []any{s}
		} else {
			for _, mm := range ms {
				sp = append(sp, s[mm.prefixStart:mm.groups[0].first], groups(s, mm.groups))
			}
			sp = append(sp, s[ms[len(ms)-1].groups[0].second:])
		}
		all = append(all, []any{m, sp})
	}
	data, _ := json.Marshal(all)
	return string(data)
}
