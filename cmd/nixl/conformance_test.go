package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The conformance test runs Nix's own language test suite (in
// ../shared/conformance/nix-lang, never copied into this repository) the
// way upstream's lang.sh does (see FORMAT.md there), and holds the
// results to a ratchet: testdata/conformance/ratchet.json records how many
// cases of each category pass, and the test fails when a change lowers a
// count. Run with -update-ratchet to raise the recorded numbers.

var updateRatchet = flag.Bool("update-ratchet", false, "record the current conformance results as the new ratchet")

type caseResult struct {
	name     string
	category string
	status   string // pass, fail, skip
	// posMatch: for failing cases, the first "at FILE:L:C" matches.
	posMatch bool
	detail   string
}

// ratchet is the recorded minimum of passing cases per category, and the
// names that passed (for a readable diff when one regresses).
type ratchet struct {
	Counts map[string]int      `json:"counts"`
	Passed map[string][]string `json:"passed"`
}

func suiteDir(t *testing.T) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "..", "shared", "conformance", "nix-lang")
	if _, err := os.Stat(filepath.Join(dir, "FORMAT.md")); err != nil {
		return ""
	}
	return dir
}

// buildNixl builds the binary under test once per test binary.
func buildNixl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nixl")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building nixl: %v\n%s", err, out)
	}
	return bin
}

func loadSkips(t *testing.T) map[string]string {
	data, err := os.ReadFile("testdata/conformance/skips.txt")
	if err != nil {
		t.Fatal(err)
	}
	skips := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("skips.txt: %q has no reason", line)
		}
		skips[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	return skips
}

func TestConformance(t *testing.T) {
	src := suiteDir(t)
	if src == "" {
		t.Skip("NOTICE: ../shared/conformance/nix-lang is absent: the Nix language conformance suite was NOT run")
	}
	bin := buildNixl(t)
	work := t.TempDir()
	lang := filepath.Join(work, "lang")
	if err := copyTree(src, lang); err != nil {
		t.Fatal(err)
	}
	if err := restoreSymlinks(lang); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "test-home"), 0o755); err != nil {
		t.Fatal(err)
	}
	skips := loadSkips(t)

	entries, err := os.ReadDir(lang)
	if err != nil {
		t.Fatal(err)
	}
	var results []caseResult
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".nix")
		if !ok {
			continue
		}
		var cat string
		for _, c := range []string{"parse-okay", "parse-fail", "eval-okay", "eval-fail"} {
			if strings.HasPrefix(name, c+"-") {
				cat = c
			}
		}
		if cat == "" {
			continue
		}
		r := caseResult{name: name, category: cat}
		if reason, ok := skips[name]; ok {
			r.status, r.detail = "skip", reason
		} else if _, err := os.Stat(filepath.Join(lang, name+".exp-disabled")); err == nil {
			r.status, r.detail = "skip", "disabled upstream"
		} else {
			r = runCase(t, bin, work, cat, name)
		}
		results = append(results, r)
	}
	report(t, results)
}

func runCase(t *testing.T, bin, work, cat, name string) caseResult {
	r := caseResult{name: name, category: cat}
	lang := filepath.Join(work, "lang")
	read := func(ext string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(lang, name+ext))
		return string(b), err == nil
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TEST_VAR=foo",
		"NIX_STORE_DIR=/nix/store",
		"NIXL_STORE_DIR=/nix/store",
		"HOME=" + filepath.Join(work, "test-home"),
		"NIX_CONFIG=show-trace = true\nexperimental-features = nix-command flakes",
	}
	var args []string
	var stdin []byte
	merged := false
	switch cat {
	case "parse-okay", "parse-fail":
		args = []string{"instantiate", "--parse", "-"}
		stdin, _ = os.ReadFile(filepath.Join(lang, name+".nix"))
		merged = cat == "parse-fail"
	case "eval-fail":
		args = []string{"instantiate", "--eval", "--strict", "--show-trace"}
		if flags, ok := read(".flags"); ok {
			args = append([]string{"instantiate"}, flagFields(flags, false)...)
		}
		args = append(args, "lang/"+name+".nix")
		merged = true
	case "eval-okay":
		if _, ok := read(".exp.xml"); ok {
			args = []string{"instantiate", "--eval", "--xml", "--no-location", "--strict", "lang/" + name + ".nix"}
		} else {
			args = []string{"instantiate"}
			if flags, ok := read(".flags"); ok {
				args = append(args, flagFields(flags, true)...)
			}
			args = append(args, "--eval", "--strict", "lang/"+name+".nix")
			env = append(env, "NIX_PATH=lang/dir3:lang/dir4")
			env[4] = "HOME=/fake-home"
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = work
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if merged {
		cmd.Stderr = &stdout
	} else {
		cmd.Stderr = &stderr
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		r.status, r.detail = "fail", "timed out"
		return r
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	norm := func(s string) string {
		if cat == "parse-okay" || cat == "parse-fail" {
			return s
		}
		if _, ok := read(".exp.xml"); ok && cat == "eval-okay" {
			return s
		}
		return strings.ReplaceAll(s, work, "/pwd")
	}
	out, errOut := norm(stdout.String()), norm(stderr.String())
	if strings.Contains(out+errOut, "goroutine ") && strings.Contains(out+errOut, ".go:") {
		r.status, r.detail = "fail", "Go panic or stack dump:\n"+out+errOut
		return r
	}
	if name == "eval-fail-derivation-name" {
		out = normaliseNumbers(out)
	}
	expect := func(ext string) string { s, _ := read(ext); return s }
	var ok bool
	switch cat {
	case "parse-okay":
		ok = code == 0 && out == expect(".exp") && errOut == expect(".err.exp")
	case "parse-fail", "eval-fail":
		want := expect(".err.exp")
		ok = code == 1 && out == want
		r.posMatch = code == 1 && firstAt(out) == firstAt(want)
	case "eval-okay":
		if xml, isXML := read(".exp.xml"); isXML {
			ok = code == 0 && out == xml
		} else {
			ok = code == 0 && out == expect(".exp") && errOut == expect(".err.exp")
		}
	}
	if ok {
		r.status = "pass"
		r.posMatch = true
	} else {
		r.status = "fail"
		r.detail = fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, out, errOut)
	}
	return r
}

// flagFields splits a .flags file: comments removed; for eval-okay only
// the first line counts.
func flagFields(s string, firstLine bool) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	if firstLine {
		return strings.Fields(lines[0])
	}
	return strings.Fields(strings.Join(lines, " "))
}

var atRE = regexp.MustCompile(`at (\S+):(\d+):(\d+):`)

func firstAt(s string) string {
	m := atRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[0]
}

func normaliseNumbers(s string) string {
	re1 := regexp.MustCompile(`[0-9 ][0-9 ][0-9 ][0-9 ][0-9 ][0-9 ][0-9 ][0-9]([^0-9])`)
	s = re1.ReplaceAllString(s, "<number>$1")
	return regexp.MustCompile(`[0-9][0-9]*`).ReplaceAllString(s, "<number>")
}

func report(t *testing.T, results []caseResult) {
	type tally struct{ pass, fail, skip, pos int }
	tallies := map[string]*tally{}
	passed := map[string][]string{}
	for _, r := range results {
		tl := tallies[r.category]
		if tl == nil {
			tl = &tally{}
			tallies[r.category] = tl
		}
		switch r.status {
		case "pass":
			tl.pass++
			passed[r.category] = append(passed[r.category], r.name)
		case "fail":
			tl.fail++
		case "skip":
			tl.skip++
		}
		if r.posMatch && r.status != "skip" {
			tl.pos++
		}
	}
	cats := []string{"parse-okay", "parse-fail", "eval-okay", "eval-fail"}
	counts := map[string]int{}
	for _, c := range cats {
		tl := tallies[c]
		if tl == nil {
			tl = &tally{}
		}
		counts[c] = tl.pass
		line := fmt.Sprintf("%-11s passed %3d  failed %3d  skipped %3d", c, tl.pass, tl.fail, tl.skip)
		if c == "parse-fail" || c == "eval-fail" {
			counts[c+"/position"] = tl.pos
			line += fmt.Sprintf("  (exit 1 and first position right: %d)", tl.pos)
		}
		t.Log(line)
		fmt.Fprintln(os.Stderr, "conformance: "+line)
	}
	if v := os.Getenv("NIXL_CONFORMANCE_SHOW"); v != "" {
		for _, r := range results {
			if r.status == "fail" && (v == "all" || strings.Contains(r.name, v)) {
				t.Logf("FAIL %s\n%s", r.name, r.detail)
			}
		}
	}
	for k := range passed {
		sort.Strings(passed[k])
	}
	path := "testdata/conformance/ratchet.json"
	if *updateRatchet {
		data, _ := json.MarshalIndent(ratchet{Counts: counts, Passed: passed}, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no ratchet recorded (%v); run with -update-ratchet", err)
	}
	var old ratchet
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	byName := map[string]caseResult{}
	for _, r := range results {
		byName[r.name] = r
	}
	for _, c := range append(cats, "parse-fail/position", "eval-fail/position") {
		if counts[c] < old.Counts[c] {
			t.Errorf("conformance regressed: %s passes %d, recorded %d", c, counts[c], old.Counts[c])
		}
	}
	for c, names := range old.Passed {
		for _, n := range names {
			if r := byName[n]; r.status != "pass" {
				t.Errorf("%s (%s) passed before and does not now:\n%s", n, c, r.detail)
			}
		}
	}
	for _, c := range cats {
		if counts[c] > old.Counts[c] {
			t.Logf("conformance improved: %s passes %d (recorded %d); run with -update-ratchet to record it", c, counts[c], old.Counts[c])
		}
	}
}

// suiteSymlinks are the symbolic links of the suite (listed in its
// SOURCE.md), which some copies of it hold as plain files containing the
// link target; the tests need real links.
var suiteSymlinks = map[string]string{
	"readDir/ldir":                    "foo",
	"readDir/linked":                  "foo/git-hates-directories",
	"symlink-resolution/broken":       "nonexistent",
	"symlink-resolution/foo/overlays": "../overlays",
}

func restoreSymlinks(dir string) error {
	for name, target := range suiteSymlinks {
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(data)) != target {
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		if err := os.Symlink(target, path); err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
}
