package build

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store/local"
)

// mkDAG writes n derivations, each depending on up to three earlier ones,
// and returns their paths.
func mkDAG(t testing.TB, s *local.Store, n int, tag string) []string {
	rng := rand.New(rand.NewSource(1))
	drvs := make([]string, n)
	for i := range n {
		var inputs []string
		for j := 0; j < 3 && i > 0; j++ {
			d := drvs[rng.Intn(i)]
			if !contains(strings.Join(inputs, " "), d) {
				inputs = append(inputs, d)
			}
		}
		drvs[i] = mkDrv(t, s, drvSpec{name: fmt.Sprintf("node-%d", i), inputs: inputs, env: map[string]string{"tag": tag},
			args: []string{"-c", `echo "$name $tag" > $out`}})
	}
	return drvs
}

func targetsOf(drvs []string) []Target {
	out := make([]Target, len(drvs))
	for i, d := range drvs {
		out[i] = Target{DrvPath: d}
	}
	return out
}

// TestDAG1000 builds a graph of 1,000 derivations with two jobs, in the
// sandbox, checks that each was built once, after its inputs, and that a
// second build does nothing and is fast.
func TestDAG1000(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	needSandbox(t)
	s := testStore(t)
	n := 1000
	if raceEnabled {
		n = 100 // the race detector makes each build ten times slower
	}
	drvs := mkDAG(t, s, n, "dag")
	var mu sync.Mutex
	finished := map[string]bool{}
	started := 0
	var order []string
	rep := funcReporter{
		started: func(d string) {
			mu.Lock()
			defer mu.Unlock()
			started++
			drv, _ := s.ReadDerivation(d)
			for in := range drv.InputDrvs {
				if !finished[in] {
					t.Errorf("%s started before its input %s", d, in)
				}
			}
			order = append(order, d)
		},
		finished: func(d string, err error) {
			mu.Lock()
			defer mu.Unlock()
			finished[d] = err == nil
		},
	}
	begin := time.Now()
	res, err := New(s, Options{Jobs: 2, Reporter: rep}).Build(context.Background(), targetsOf(drvs))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d derivations with -j 2 in %v", n, time.Since(begin))
	if started != n {
		t.Errorf("%d builds for %d derivations", started, n)
	}
	for i, r := range res {
		data, err := os.ReadFile(r["out"])
		if err != nil || string(data) != fmt.Sprintf("node-%d dag\n", i) {
			t.Fatalf("output %d: %q %v", i, data, err)
		}
	}
	started = 0
	begin = time.Now()
	if _, err := New(s, Options{Jobs: 2, Reporter: rep}).Build(context.Background(), targetsOf(drvs)); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(begin)
	t.Logf("no-op build of %d derivations: %v", n, elapsed)
	if started != 0 || elapsed > time.Second && !raceEnabled {
		t.Errorf("no-op build started %d builds and took %v", started, elapsed)
	}
}

// BenchmarkNoopBuild1000 measures Build on 1,000 derivations whose
// outputs are all valid (each one a target).
func BenchmarkNoopBuild1000(b *testing.B) {
	s := testStore(b)
	drvs := mkDAG(b, s, 1000, "bench")
	if _, err := New(s, Options{Sandbox: SandboxOff, Jobs: 4}).Build(context.Background(), targetsOf(drvs)); err != nil {
		b.Fatal(err)
	}
	bl := New(s, Options{})
	targets := targetsOf(drvs)
	b.ResetTimer()
	for range b.N {
		if _, err := bl.Build(context.Background(), targets); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentBuilders runs two builders with their own store handles
// (as two processes have) on one graph at once: each derivation is built
// exactly once. The builders run without the sandbox so that they can
// count their runs in a file outside it.
func TestConcurrentBuilders(t *testing.T) {
	s1 := testStore(t)
	s2, err := local.Open(local.Options{StoreDir: string(s1.StoreDir()), StateDir: s1.StateDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	counter := t.TempDir()
	var drvs []string
	for i := range 40 {
		var inputs []string
		if i > 0 {
			inputs = []string{drvs[i/2]}
		}
		drvs = append(drvs, mkDrv(t, s1, drvSpec{name: fmt.Sprintf("c%d", i), inputs: inputs,
			args: []string{"-c", `echo x >> ` + counter + `/$name; i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo $name > $out`}}))
	}
	var wg sync.WaitGroup
	var builds atomic.Int32
	for _, s := range []*local.Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := funcReporter{started: func(string) { builds.Add(1) }}
			if _, err := New(s, Options{Sandbox: SandboxOff, Jobs: 3, Reporter: rep}).Build(context.Background(), targetsOf(drvs)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 40 {
		data, err := os.ReadFile(filepath.Join(counter, fmt.Sprintf("c%d", i)))
		if err != nil || string(data) != "x\n" {
			t.Errorf("c%d built %d times", i, strings.Count(string(data), "x"))
		}
	}
	if builds.Load() != 40 {
		t.Errorf("%d builds started", builds.Load())
	}
}

const probeSource = `package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

// probe ADDR: try to connect; write the outcome to $out.
func main() {
	c, err := net.DialTimeout("tcp", os.Args[1], 3*time.Second)
	msg := "connected"
	if err != nil {
		msg = "no connection"
		fmt.Fprintln(os.Stderr, err)
	} else {
		c.Close()
	}
	if err := os.WriteFile(os.Getenv("out"), []byte(msg+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
`

// probeBinary compiles a static program that tries a TCP connection, and
// adds it to the store.
func probeBinary(t *testing.T, s *local.Store) string {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeSource), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.22\n"), 0o644)
	cmd := exec.Command(goTool, "build", "-o", "probe", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	p, err := s.AddPath("probe", filepath.Join(dir, "probe"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSandboxNetwork checks that a builder cannot reach a port the test
// listens on, and that a fixed-output derivation (which shares the host
// network) can.
func TestSandboxNetwork(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	l, accepted := listenCounting(t, "127.0.0.1:0")
	probe := probeBinary(t, s)
	drv := mkDrv(t, s, drvSpec{name: "net", builder: probe, srcs: []string{probe}, args: []string{l.Addr().String()}})
	res := mustBuild(t, s, Options{}, drv)
	if data, _ := os.ReadFile(res[0]["out"]); string(data) != "no connection\n" {
		t.Errorf("sandboxed builder: %q", data)
	}
	if accepted.Load() != 0 {
		t.Errorf("the listener accepted a connection from the sandbox")
	}
	h := nixhash.SumString(nixhash.SHA256, "connected\n")
	fod := mkDrv(t, s, drvSpec{name: "net-fod", builder: probe, srcs: []string{probe}, args: []string{l.Addr().String()}, hashAlgo: "sha256", hash: h.Base16()})
	if _, err := build(t, s, Options{}, fod); err != nil {
		t.Errorf("fixed-output derivation: %v", err)
	}
}

// TestBuiltinBuilder builds a builtin:fetchurl derivation of a file://
// URL, in process, for a system the host is not.
func TestBuiltinBuilder(t *testing.T) {
	s := testStore(t)
	src := filepath.Join(t.TempDir(), "data")
	os.WriteFile(src, []byte("downloaded\n"), 0o644)
	h := nixhash.SumString(nixhash.SHA256, "downloaded\n")
	drv := mkDrv(t, s, drvSpec{name: "data", builder: "builtin:fetchurl", system: "builtin", hashAlgo: "sha256", hash: h.Base16(),
		env: map[string]string{"url": "file://" + src, "urls": "file://" + src}})
	res := mustBuild(t, s, Options{}, drv)
	if data, err := os.ReadFile(res[0]["out"]); err != nil || string(data) != "downloaded\n" {
		t.Fatalf("output %q %v", data, err)
	}
}
