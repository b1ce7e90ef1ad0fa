package build

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/sandbox"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

func TestMain(m *testing.M) {
	sandbox.MaybeInit()
	os.Exit(m.Run())
}

// testStore opens a fresh store in a temporary directory.
func testStore(t testing.TB) *local.Store {
	t.Helper()
	dir := t.TempDir()
	// The sandboxed builder (uid 1000 mapped to us) and other users must
	// be able to reach the store.
	os.Chmod(dir, 0o755)
	s, err := local.Open(local.Options{StoreDir: filepath.Join(dir, "store"), StateDir: filepath.Join(dir, "var")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drvSpec describes a derivation for mkDrv.
type drvSpec struct {
	name    string
	builder string
	args    []string
	env     map[string]string
	inputs  []string // .drv paths whose "out" is used
	srcs    []string // input sources
	outputs []string // default: out
	// fixed output: "sha256", "r:sha256" and a base16 hash.
	hashAlgo, hash string
	system         string
}

// mkDrv writes a derivation to the store as builtins.derivation would
// compute it, and returns its path.
func mkDrv(t testing.TB, s *local.Store, sp drvSpec) string {
	t.Helper()
	d := &derivation.Derivation{
		Name:      sp.name,
		InputDrvs: map[string][]string{},
		InputSrcs: sp.srcs,
		Platform:  sp.system,
		Builder:   sp.builder,
		Args:      sp.args,
		Env:       map[string]string{},
	}
	if d.Platform == "" {
		d.Platform = HostSystem()
	}
	if d.Builder == "" {
		d.Builder = "/bin/sh"
	}
	for k, v := range sp.env {
		d.Env[k] = v
	}
	d.Env["name"] = sp.name
	d.Env["builder"] = d.Builder
	d.Env["system"] = d.Platform
	for i, in := range sp.inputs {
		d.InputDrvs[in] = []string{"out"}
		dep, err := s.ReadDerivation(in)
		if err != nil {
			t.Fatal(err)
		}
		d.Env["dep"+itoa(i)] = dep.Outputs["out"].Path
	}
	outs := sp.outputs
	if len(outs) == 0 {
		outs = []string{"out"}
	}
	if sp.hash != "" {
		method, algo, err := store.ParseMethodAlgorithm(sp.hashAlgo)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetFixedOutput(s.StoreDir(), method, algo.String()+":"+sp.hash, ""); err != nil {
			t.Fatal(err)
		}
	} else {
		h := derivation.NewHasher(s.StoreDir(), s.ReadDerivation)
		d.Env["outputs"] = joinSpace(outs)
		if err := h.SetInputAddressedOutputs(d, outs); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.AddDerivation(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func joinSpace(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// needSandbox skips tests that need a sandbox when there is none.
func needSandbox(t testing.TB) {
	t.Helper()
	if err := sandbox.Check(); err != nil {
		t.Skip(err)
	}
}

// needBusybox skips tests whose scripts need more than a POSIX shell's
// builtins (mkdir, sleep…): the default /bin/sh must be a static busybox.
func needBusybox(t testing.TB) {
	t.Helper()
	paths := sandbox.DefaultPaths()
	if len(paths) != 1 || filepath.Base(paths[0]) != "busybox" && !contains(paths[0], "busybox") {
		t.Skip("no static busybox for /bin/sh (install busybox-static)")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// recorder is a Reporter that remembers what happened.
type recorder struct {
	started  chan string
	mu       chan struct{}
	lines    map[string][]string
	finished []string
}

func build(t testing.TB, s *local.Store, opts Options, drvs ...string) ([]map[string]string, error) {
	t.Helper()
	var targets []Target
	for _, d := range drvs {
		targets = append(targets, Target{DrvPath: d})
	}
	return New(s, opts).Build(context.Background(), targets)
}

func mustBuild(t testing.TB, s *local.Store, opts Options, drvs ...string) []map[string]string {
	t.Helper()
	res, err := build(t, s, opts, drvs...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func sortedCopy(l []string) []string {
	out := append([]string(nil), l...)
	sort.Strings(out)
	return out
}

// listenCounting listens on addr until the test ends and counts the
// connections it accepts.
func listenCounting(t *testing.T, addr string) (net.Listener, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return l, accepted
}
