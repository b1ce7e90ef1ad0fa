package store

import (
	"github.com/nixl-project/nixl/nixhash"

	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/nar.json and testdata/tree.nar from nix-store --dump (needs Nix)")

// narGolden is what Nix produced for one dumped path.
type narGolden struct {
	NARSHA256 string `json:"narSha256"` // nix32 SHA-256 of the NAR
	NARSize   int64  `json:"narSize"`
	// SourcePath is builtins.path { path; name = "tree"; } in /nix/store,
	// recorded for directory roots only.
	SourcePath string `json:"sourcePath,omitempty"`
}

const bigFileSize = 3<<20 + 5 // spans several copy buffers, unaligned

// narGoldenRoots creates the dumped paths; keys name them in nar.json.
func narGoldenRoots(t *testing.T) map[string]string {
	parent := t.TempDir()
	tree := buildTestTree(t, parent)
	big := filepath.Join(parent, "big")
	writeBigFile(t, big, bigFileSize)
	return map[string]string{
		"tree":         tree,
		"tree/file":    filepath.Join(tree, "file.txt"),
		"tree/script":  filepath.Join(tree, "script.sh"),
		"tree/symlink": filepath.Join(tree, "link-to-file"),
		"tree/empty":   filepath.Join(tree, "empty-dir"),
		"big-file":     big,
	}
}

func lookNix(t *testing.T, tool string) (string, bool) {
	path, err := exec.LookPath(tool)
	if err != nil {
		if *updateGolden {
			t.Fatalf("-update-golden needs %s on PATH", tool)
		}
		return "", false
	}
	return path, true
}

func nixDump(t *testing.T, nixStore, path string) []byte {
	out, err := exec.Command(nixStore, "--dump", path).Output()
	if err != nil {
		t.Fatalf("nix-store --dump %s: %v", path, describeExecError(err))
	}
	return out
}

func nixSourcePath(t *testing.T, nixInstantiate, path string) string {
	expr := `builtins.path { path = ` + path + `; name = "tree"; }`
	cmd := exec.Command(nixInstantiate, "--readonly-mode", "--eval", "--json", "-E", expr)
	cmd.Env = append(os.Environ(), "NIX_STORE_DIR=/nix/store")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate %s: %v", expr, describeExecError(err))
	}
	var s string
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func describeExecError(err error) error {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return errors.New(err.Error() + ": " + strings.TrimSpace(string(exitErr.Stderr)))
	}
	return err
}

func loadNARGolden(t *testing.T) map[string]narGolden {
	data, err := os.ReadFile("testdata/nar.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]narGolden
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	return golden
}

func TestNARGoldenAgainstRecordedNix(t *testing.T) {
	roots := narGoldenRoots(t)
	if *updateGolden {
		nixStore, _ := lookNix(t, "nix-store")
		nixInstantiate, _ := lookNix(t, "nix-instantiate")
		golden := map[string]narGolden{}
		for name, path := range roots {
			nar := nixDump(t, nixStore, path)
			g := narGolden{NARSHA256: nixhash.Sum(nixhash.SHA256, nar).NixBase32(), NARSize: int64(len(nar))}
			if name == "tree" || name == "tree/empty" {
				g.SourcePath = nixSourcePath(t, nixInstantiate, path)
				mustDo(t, os.WriteFile(filepath.Join("testdata", strings.ReplaceAll(name, "/", "-")+".nar"), nar, 0o644))
			}
			golden[name] = g
		}
		data, err := json.MarshalIndent(golden, "", "  ")
		mustDo(t, err)
		mustDo(t, os.WriteFile("testdata/nar.json", append(data, '\n'), 0o644))
	}

	golden := loadNARGolden(t)
	if len(golden) != len(roots) {
		t.Fatalf("testdata/nar.json has %d entries, the test builds %d roots; rerun testdata/record.sh", len(golden), len(roots))
	}
	for name, path := range roots {
		t.Run(name, func(t *testing.T) {
			want, ok := golden[name]
			if !ok {
				t.Fatalf("no golden entry for %q", name)
			}
			h, size, err := HashPath(nixhash.SHA256, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if h.NixBase32() != want.NARSHA256 || size != want.NARSize {
				t.Errorf("NAR sha256 %s size %d, recorded from Nix: %s size %d", h.NixBase32(), size, want.NARSHA256, want.NARSize)
			}
			if want.SourcePath != "" {
				p, err := DefaultDir.MakeSourcePath("tree", h, nil, false)
				if err != nil {
					t.Fatal(err)
				}
				if got := DefaultDir.Path(p); got != want.SourcePath {
					t.Errorf("source path %s, Nix: %s", got, want.SourcePath)
				}
			}
		})
	}
}

func TestNARBytesEqualRecordedNixDump(t *testing.T) {
	roots := narGoldenRoots(t)
	for _, name := range []string{"tree", "tree/empty"} {
		want, err := os.ReadFile(filepath.Join("testdata", strings.ReplaceAll(name, "/", "-")+".nar"))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := DumpPath(&got, roots[name], nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: our NAR (%d bytes) differs from the recorded nix-store --dump (%d bytes) at byte %d",
				name, got.Len(), len(want), firstDifference(got.Bytes(), want))
		}
	}
}

func TestNARBytesEqualLiveNixDump(t *testing.T) {
	nixStore, ok := lookNix(t, "nix-store")
	if !ok {
		t.Skip("NOTICE: nix-store not on PATH: live byte comparison with `nix-store --dump` NOT run")
	}
	for name, path := range narGoldenRoots(t) {
		want := nixDump(t, nixStore, path)
		var got bytes.Buffer
		if _, err := DumpPath(&got, path, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: our NAR (%d bytes) differs from nix-store --dump (%d bytes) at byte %d",
				name, got.Len(), len(want), firstDifference(got.Bytes(), want))
		}
	}
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
