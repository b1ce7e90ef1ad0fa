package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nixl-project/nixl/lang/analysis"
)

var updateCheck = flag.Bool("update", false, "rewrite the nixl check goldens (testdata/check/*.json) from the current output")

// TestCheckGolden runs nixl check --json on each file of testdata/check
// (files named eval-* with --eval) and compares with FILE.json; it also
// checks the exit code and that the text form says the same.
func TestCheckGolden(t *testing.T) {
	t.Setenv("NIXL_STORE_DIR", filepath.Join(t.TempDir(), "store")) // for --eval
	files, _ := filepath.Glob("testdata/check/*.nix")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			args := []string{"check", "--json"}
			if strings.HasPrefix(filepath.Base(file), "eval-") {
				args = append(args, "--eval")
			}
			var out, errOut bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
			code := c.main(append(args, file))
			if errOut.Len() > 0 {
				t.Errorf("stderr: %s", errOut.String())
			}
			var diags []analysis.Diagnostic
			if err := json.Unmarshal(out.Bytes(), &diags); err != nil {
				t.Fatalf("output is not a JSON list of diagnostics: %v\n%s", err, out.String())
			}
			errors := 0
			for _, d := range diags {
				if d.File != file || d.Range.Start.Line < 1 || d.Code == "" || d.Message == "" {
					t.Errorf("incomplete diagnostic %+v", d)
				}
				if d.Severity == analysis.SeverityError {
					errors++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[errors > 0]; code != want {
				t.Errorf("exit code %d with %d errors", code, errors)
			}
			golden := strings.TrimSuffix(file, ".nix") + ".json"
			if *updateCheck {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			} else if string(want) != out.String() {
				t.Errorf("output differs from %s:\n%s", golden, out.String())
			}

			// The text form: one line per diagnostic.
			out.Reset()
			c.main(append(args[:1:1], append(args[2:], file)...))
			var lines []string
			for _, d := range diags {
				lines = append(lines, d.String())
			}
			if got, want := strings.TrimSpace(out.String()), strings.Join(lines, "\n"); got != want {
				t.Errorf("text output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	if code := c.main([]string{"check"}); code != 1 || !strings.Contains(errOut.String(), "Usage: nixl check") {
		t.Errorf("code %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := c.main([]string{"check", "testdata/check/does-not-exist.nix"}); code != 1 || !strings.Contains(errOut.String(), "does not exist") {
		t.Errorf("code %d, %q", code, errOut.String())
	}
}
