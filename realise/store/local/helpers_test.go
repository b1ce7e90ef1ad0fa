package local

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the tests run this binary as a second nixl process (see
// runHelper).
func TestMain(m *testing.M) {
	if mode := os.Getenv("NIXL_LOCAL_HELPER"); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper is the body of a helper process. It opens the store named by
// the environment and:
//
//	add:      adds NIXL_HELPER_SRC and prints "added PATH" or "exists PATH";
//	          NIXL_HELPER_PAUSE=<stage> makes it create NIXL_HELPER_READY
//	          and hang at that stage (to be killed), NIXL_HELPER_SLOW makes
//	          it wait a moment after copying (to race with another adder);
//	temproot: adds a text file, prints its path, and holds it as a temporary
//	          root until its standard input is closed.
func runHelper(mode string) int {
	s, err := Open(Options{StoreDir: os.Getenv("NIXL_HELPER_STORE"), StateDir: os.Getenv("NIXL_HELPER_STATE")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer s.Close()
	pause, ready := os.Getenv("NIXL_HELPER_PAUSE"), os.Getenv("NIXL_HELPER_READY")
	slow := os.Getenv("NIXL_HELPER_SLOW") != ""
	testHook = func(stage string) {
		if stage == "copied" && slow {
			time.Sleep(300 * time.Millisecond)
		}
		if stage == pause {
			os.WriteFile(ready, []byte(stage), 0o644)
			select {}
		}
	}
	switch mode {
	case "add":
		p, added, err := s.addPath("src", os.Getenv("NIXL_HELPER_SRC"), true, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		if added {
			fmt.Println("added", p)
		} else {
			fmt.Println("exists", p)
		}
	case "temproot":
		p, err := s.AddText("held", "held by a live process", nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		fmt.Println(p)
		bufio.NewReader(os.Stdin).ReadString(0) // until EOF
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
		return 2
	}
	return 0
}

// helperCmd prepares a helper process for the store at dirs.
func helperCmd(t *testing.T, d testDirs, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"NIXL_LOCAL_HELPER="+mode,
		"NIXL_HELPER_STORE="+d.store,
		"NIXL_HELPER_STATE="+d.state,
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

type testDirs struct{ store, state string }

// newDirs returns fresh store and state directories, removed after the
// test even though the store is read-only.
func newDirs(t *testing.T) testDirs {
	t.Helper()
	base := t.TempDir()
	t.Cleanup(func() { makeWritable(base) })
	return testDirs{store: filepath.Join(base, "store"), state: filepath.Join(base, "var")}
}

func makeWritable(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

func openDirs(t *testing.T, d testDirs, opts ...func(*Options)) *Store {
	t.Helper()
	o := Options{StoreDir: d.store, StateDir: d.state}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) (*Store, testDirs) {
	d := newDirs(t)
	return openDirs(t, d), d
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeTree creates files under root from a description: "path" → contents,
// with a "dir/" key for an empty directory, a "*" suffix on the key for an
// executable, and contents starting with "->" for a symlink.
func writeTree(t testing.TB, root string, files map[string]string) string {
	t.Helper()
	must(t, os.MkdirAll(root, 0o755))
	for name, data := range files {
		exe := strings.HasSuffix(name, "*")
		name = strings.TrimSuffix(name, "*")
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if target, ok := strings.CutPrefix(data, "->"); ok {
			must(t, os.Symlink(target, p))
			continue
		}
		must(t, os.WriteFile(p, []byte(data), 0o644))
		if exe {
			must(t, os.Chmod(p, 0o755))
		}
	}
	return root
}

// goldenTree is a tree with every kind of NAR node; its NAR hash was
// computed with nix-hash --type sha256 --base32 (Nix 2.8).
var goldenTree = map[string]string{
	"hello.txt":         "hello, world\n",
	"empty":             "",
	"bin/tool*":         "#!/bin/sh\necho tool\n",
	"bin/link":          "->tool",
	"share/doc/README":  "read me\n",
	"share/empty-dir/":  "",
	"names/héllo":       "accent",
	"names/Zebra":       "upper",
	"names/apple":       "lower",
	"dangling":          "->does/not/exist",
	"absolute":          "->/nix/store/00000000000000000000000000000000-missing",
	"share/doc/binary":  "\x00\x01\x02\xff",
	"share/eight-bytes": "12345678",
}

const (
	goldenTreeNARHash = "sha256:10ialf8gy7g7v2fxn87ilr24zgwazc996g9g5nr2cm1ddmjrcz0q"
	goldenTreeNARSize = 3368
)

// nixStore returns a --store argument for C++ Nix whose store directory is
// storeDir (the files go to a chroot under t.TempDir()), or skips when Nix
// is not installed.
func nixStoreArg(t *testing.T, storeDir string) string {
	t.Helper()
	if _, err := exec.LookPath("nix-store"); err != nil {
		t.Skip("nix-store is not installed")
	}
	root := t.TempDir()
	t.Cleanup(func() { makeWritable(root) })
	return "local?root=" + root + "&store=" + storeDir
}

func runNix(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s %v: %v\n%s", name, args, err, ee.Stderr)
		}
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return strings.TrimSpace(string(out))
}
