package build

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSandboxWritesStayInside has a sandboxed builder try to write
// everywhere it might: its inputs (a source and another derivation's
// output), a directory of the host it was told about, the store
// directory, the root of its file system, /etc, /tmp, a path out of its
// build directory, the host name, the kernel's settings. Writes to the
// inputs, the host and the kernel must fail; whatever else succeeds
// lands in the build's own namespaces or scratch directory (the sandbox's
// root is the builder's, as its uid is the invoking user's), which are
// deleted: after the build the host, the inputs and the store hold
// nothing but the outputs. (That the builder
// cannot read the host, /home and /root included, is
// TestSandboxHidesHost; the network, TestSandboxNetwork.)
func TestSandboxWritesStayInside(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	src, err := s.AddText("input-source", "pristine\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	depDrv := mkDrv(t, s, drvSpec{name: "dep", args: []string{"-c", "echo pristine > $out"}})
	dep := mustBuild(t, s, Options{}, depDrv)[0]["out"]
	host := t.TempDir()
	os.Chmod(host, 0o777)
	canary := filepath.Join(host, "canary")
	os.WriteFile(canary, []byte("pristine\n"), 0o666)
	var rnd [8]byte
	rand.Read(rnd[:])
	tag := "nixl-escape-" + hex.EncodeToString(rnd[:])
	passwd, _ := os.ReadFile("/etc/passwd")
	hostname, _ := os.Hostname()
	storeBefore := listDir(t, string(s.StoreDir()))

	// Each attempt prints NAME=ok or NAME=denied into $out.
	attempts := []struct{ name, cmd string }{
		{"input-source", `echo evil > ` + src},
		{"input-output", `echo evil >> $dep000`},
		{"host-dir", `echo evil > ` + canary},
		{"host-new-file", `echo evil > ` + filepath.Join(host, tag)},
		{"store-dir", `echo evil > $NIX_STORE/00000000000000000000000000000000-` + tag},
		{"root", `echo evil > /` + tag},
		{"etc-passwd", `echo evil >> /etc/passwd`},
		{"tmp", `echo evil > /tmp/` + tag},
		{"out-of-build-dir", `echo evil > $NIX_BUILD_TOP/../` + tag},
		{"hostname", `echo evil > /proc/sys/kernel/hostname`},
		{"kernel", `v=$(cat /proc/sys/kernel/panic) && echo $v > /proc/sys/kernel/panic`},
		{"sysrq", `[ -w /proc/sysrq-trigger ]`}, // asks, does not write
		{"build-dir", `echo fine > $NIX_BUILD_TOP/` + tag},
	}
	var script strings.Builder
	script.WriteString(": > $out\n")
	for _, a := range attempts {
		script.WriteString("if (" + a.cmd + ") 2>/dev/null; then echo " + a.name + "=ok >> $out; else echo " + a.name + "=denied >> $out; fi\n")
	}
	drv := mkDrv(t, s, drvSpec{name: "escape", args: []string{"-c", script.String()}, inputs: []string{depDrv}, srcs: []string{src}})
	out := mustBuild(t, s, Options{}, drv)[0]["out"]
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	for _, line := range strings.Fields(string(data)) {
		k, v, _ := strings.Cut(line, "=")
		results[k] = v
	}
	t.Logf("inside the sandbox: %v", results)
	for _, name := range []string{"input-source", "input-output", "host-dir", "host-new-file", "hostname", "kernel", "sysrq"} {
		if results[name] != "denied" {
			t.Errorf("the builder could write (%s): %s", name, results[name])
		}
	}
	if results["build-dir"] != "ok" {
		t.Errorf("the builder could not write its build directory")
	}
	// Nothing reached the host.
	if got, _ := os.ReadFile(canary); string(got) != "pristine\n" {
		t.Errorf("the host file was changed: %q", got)
	}
	for _, p := range []string{filepath.Join(host, tag), "/" + tag, "/tmp/" + tag, filepath.Join(os.TempDir(), tag)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the builder created %s on the host", p)
			os.Remove(p)
		}
	}
	if got, _ := os.Hostname(); got != hostname {
		t.Errorf("the host name of the host changed to %q", got)
	}
	if got, _ := os.ReadFile("/etc/passwd"); string(got) != string(passwd) {
		t.Errorf("/etc/passwd of the host changed")
	}
	for _, p := range []string{src, dep} {
		if got, _ := os.ReadFile(p); string(got) != "pristine\n" {
			t.Errorf("input %s changed: %q", p, got)
		}
	}
	problems, err := s.Verify(true)
	if err != nil || len(problems) > 0 {
		t.Errorf("verify: %v %v", problems, err)
	}
	// The store holds the outputs and the .drv, nothing else.
	for _, name := range listDir(t, string(s.StoreDir())) {
		if slices.Contains(storeBefore, name) || filepath.Join(string(s.StoreDir()), name) == out ||
			strings.HasSuffix(name, "-escape.drv") {
			continue
		}
		t.Errorf("the store has %s after the build", name)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestSandboxNetworkAllAddresses extends TestSandboxNetwork beyond
// 127.0.0.1: a listener on every interface cannot be reached by a
// builder that is not fixed-output through the host's other addresses
// either (IPv6 loopback, the machine's own IPv4 address), since its
// network namespace has only a loopback device of its own.
func TestSandboxNetworkAllAddresses(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	l, accepted := listenCounting(t, ":0")
	port := l.Addr().(*net.TCPAddr).Port
	var addrs []string
	for _, host := range []string{"127.0.0.1", "::1"} {
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	if ifaddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifaddrs {
			if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
				addrs = append(addrs, net.JoinHostPort(ip.IP.String(), strconv.Itoa(port)))
				break
			}
		}
	}
	// The host itself reaches them (so "no connection" below is the
	// sandbox's doing); IPv6 may be off, then it is left out.
	var reachable []string
	for _, a := range addrs {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			reachable = append(reachable, a)
		}
	}
	if len(reachable) == 0 {
		t.Skip("SKIPPED (not counted as a pass): the host cannot reach its own listener")
	}
	for i := 0; accepted.Load() < int32(len(reachable)) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	before := accepted.Load()
	probe := probeBinary(t, s)
	for i, a := range reachable {
		drv := mkDrv(t, s, drvSpec{name: "net-" + strconv.Itoa(i), builder: probe, srcs: []string{probe}, args: []string{a}})
		res := mustBuild(t, s, Options{}, drv)
		if data, _ := os.ReadFile(res[0]["out"]); string(data) != "no connection\n" {
			t.Errorf("sandboxed builder and %s: %q", a, data)
		}
	}
	if n := accepted.Load() - before; n != 0 {
		t.Errorf("the listener accepted %d connections from sandboxes", n)
	}
}
