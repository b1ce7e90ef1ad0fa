package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/store"
)

func TestBuildSimple(t *testing.T) {
	for _, mode := range []SandboxMode{SandboxOn, SandboxOff} {
		t.Run([]string{"sandbox", "nosandbox"}[mode], func(t *testing.T) {
			if mode == SandboxOn {
				needSandbox(t)
			}
			s := testStore(t)
			drv := mkDrv(t, s, drvSpec{name: "simple", args: []string{"-c", `echo building; echo "hello $name" > $out`}})
			res := mustBuild(t, s, Options{Sandbox: mode}, drv)
			out := res[0]["out"]
			data, err := os.ReadFile(out)
			if err != nil || string(data) != "hello simple\n" {
				t.Fatalf("output: %q, %v", data, err)
			}
			info, err := s.QueryPathInfo(out)
			if err != nil {
				t.Fatal(err)
			}
			want, size, _ := store.HashPath(nixhash.SHA256, out, nil)
			if info.NarHash.Base16() != want.Base16() || info.NarSize != size || info.Deriver != drv || !info.Ultimate {
				t.Errorf("info %+v", info)
			}
			log, err := os.ReadFile(LogPath(s, drv))
			if err != nil || string(log) != "building\n" {
				t.Errorf("log %q %v", log, err)
			}
			// No-op: nothing is built again.
			var started atomic.Int32
			mustBuild(t, s, Options{Sandbox: mode, Reporter: funcReporter{started: func(string) { started.Add(1) }}}, drv)
			if started.Load() != 0 {
				t.Errorf("valid output rebuilt")
			}
			// Nothing left behind.
			entries, _ := os.ReadDir(string(s.StoreDir()))
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), "-build") {
					t.Errorf("scratch directory %s left", e.Name())
				}
			}
		})
	}
}

type funcReporter struct {
	started  func(string)
	line     func(string, string)
	finished func(string, error)
}

func (r funcReporter) Planned([]string) {}
func (r funcReporter) Started(d string) {
	if r.started != nil {
		r.started(d)
	}
}
func (r funcReporter) Line(d, l string) {
	if r.line != nil {
		r.line(d, l)
	}
}
func (r funcReporter) Finished(d string, err error) {
	if r.finished != nil {
		r.finished(d, err)
	}
}

func TestBuildDependenciesAndReferences(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	a := mkDrv(t, s, drvSpec{name: "a", args: []string{"-c", `echo a > $out`}})
	// b refers to a (in its contents) and to itself (in a symlink-less
	// file), c to nothing.
	b := mkDrv(t, s, drvSpec{name: "b", inputs: []string{a}, args: []string{"-c", `read x < $dep000; echo "$x $dep000 $out" > $out`}})
	c := mkDrv(t, s, drvSpec{name: "c", inputs: []string{b}, args: []string{"-c", `read x < $dep000; echo "got ${x%% *}" > $out`}})
	res := mustBuild(t, s, Options{}, c)
	data, _ := os.ReadFile(res[0]["out"])
	if string(data) != "got a\n" {
		t.Fatalf("c: %q", data)
	}
	bd, _ := s.ReadDerivation(b)
	bOut := bd.Outputs["out"].Path
	data, _ = os.ReadFile(bOut)
	aOut := strings.Fields(string(data))[1]
	info, err := s.QueryPathInfo(bOut)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.References, sortedCopy([]string{aOut, bOut})) {
		t.Errorf("references of b: %v", info.References)
	}
	info, _ = s.QueryPathInfo(res[0]["out"])
	if len(info.References) != 0 {
		t.Errorf("references of c: %v", info.References)
	}
}

func TestBuildEnvironment(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	drv := mkDrv(t, s, drvSpec{name: "env", env: map[string]string{"foo": "bar baz", "big": "passed as file", "passAsFile": "big"},
		args: []string{"-c", `export -p > $out; read x < $bigPath; echo "file=$x" >> $out; echo "pwd=$(pwd 2>/dev/null || echo $PWD)" >> $out; read u < /etc/passwd; echo "passwd=$u" >> $out`}})
	res := mustBuild(t, s, Options{Cores: 3}, drv)
	data, _ := os.ReadFile(res[0]["out"])
	got := string(data)
	for _, want := range []string{
		"NIX_BUILD_TOP='/build'", "TMPDIR='/build'", "TMP='/build'", "TEMP='/build'", "TEMPDIR='/build'", "PWD='/build'",
		"HOME='/homeless-shelter'", "PATH='/path-not-set'", "NIX_STORE='" + string(s.StoreDir()) + "'",
		"NIX_BUILD_CORES='3'", "NIX_LOG_FD='2'", "TERM='xterm-256color'", "foo='bar baz'",
		"out='" + res[0]["out"] + "'", "file=passed as file", "passwd=root:x:0:0:Nix build user:/build:/noshell",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("environment lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "big=") {
		t.Errorf("passAsFile variable passed in the environment")
	}
}

func TestStructuredAttrs(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	js := `{"builder":"/bin/sh","list":["a","b c"],"n":3,"name":"sa","flag":true,"set":{"k":"v"},"system":"` + HostSystem() + `"}`
	drv := mkDrv(t, s, drvSpec{name: "sa", env: map[string]string{"__json": js},
		args: []string{"-c", `. $NIX_ATTRS_SH_FILE; { echo "n=$n flag=$flag"; read j < $NIX_ATTRS_JSON_FILE; echo "$j"; } > ${outputs_out:-/build/none}; exit 0`}})
	// dash has no arrays: just check the files exist and the JSON.
	drv = mkDrv(t, s, drvSpec{name: "sa2", env: map[string]string{"__json": js},
		args: []string{"-c", `read j < $NIX_ATTRS_JSON_FILE; o=${j##*\"outputs\":\{\"out\":\"}; o=${o%%\"*}; while read -r l; do echo "$l"; done < $NIX_ATTRS_SH_FILE > $o; echo "$j" >> $o`}})
	res := mustBuild(t, s, Options{}, drv)
	data, _ := os.ReadFile(res[0]["out"])
	got := string(data)
	for _, want := range []string{
		"declare flag=1", "declare -a list=('a' 'b c' )", "declare n=3", "declare -A set=(['k']='v' )",
		`"outputs":{"out":"` + res[0]["out"] + `"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("structured attributes lack %s:\n%s", want, got)
		}
	}
}

func TestBuildFailure(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	bad := mkDrv(t, s, drvSpec{name: "bad", args: []string{"-c", `i=0; while [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); done; echo partial > $out; exit 3`}})
	dep := mkDrv(t, s, drvSpec{name: "dependent", inputs: []string{bad}, args: []string{"-c", `echo > $out`}})
	good := mkDrv(t, s, drvSpec{name: "good", args: []string{"-c", `echo ok > $out`}})
	_, err := build(t, s, Options{KeepGoing: true, Jobs: 1}, dep, good)
	var be *Error
	if !errors.As(err, &be) || len(be.Failures) != 1 || be.DependencyFailures != 1 {
		t.Fatalf("error %#v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "builder for '"+bad+"' failed with exit code 3;\nlast 25 log lines:\n> line 5\n") || !strings.Contains(msg, "> line 29\nFor full logs") {
		t.Errorf("message:\n%s", msg)
	}
	d, _ := s.ReadDerivation(bad)
	if ok, _ := s.IsValidPath(d.Outputs["out"].Path); ok {
		t.Errorf("output of a failed build is valid")
	}
	if _, err := os.Lstat(d.Outputs["out"].Path); err == nil {
		t.Errorf("output of a failed build exists")
	}
	g, _ := s.ReadDerivation(good)
	if ok, _ := s.IsValidPath(g.Outputs["out"].Path); !ok {
		t.Errorf("--keep-going did not build the independent derivation")
	}
}

func TestFixedOutput(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	content := "fixed content\n"
	h := nixhash.SumString(nixhash.SHA256, content)
	good := mkDrv(t, s, drvSpec{name: "fod", hashAlgo: "sha256", hash: h.Base16(), args: []string{"-c", `printf 'fixed content\n' > $out`}})
	res := mustBuild(t, s, Options{}, good)
	info, err := s.QueryPathInfo(res[0]["out"])
	if err != nil || info.CA != "fixed:"+h.String() {
		t.Fatalf("info %+v %v", info, err)
	}
	wrong := nixhash.SumString(nixhash.SHA256, "something else")
	bad := mkDrv(t, s, drvSpec{name: "fod-bad", hashAlgo: "sha256", hash: wrong.Base16(), args: []string{"-c", `printf 'fixed content\n' > $out`}})
	_, err = build(t, s, Options{}, bad)
	want := "hash mismatch in fixed-output derivation '" + bad + "':\n  specified: " + wrong.SRI() + "\n     got:    " + h.SRI()
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	d, _ := s.ReadDerivation(bad)
	if ok, _ := s.IsValidPath(d.Outputs["out"].Path); ok {
		t.Errorf("a fixed output with a wrong hash is valid")
	}
	if _, err := os.Lstat(d.Outputs["out"].Path); err == nil {
		t.Errorf("a fixed output with a wrong hash is in the store")
	}
}

func TestAllowedReferences(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	a := mkDrv(t, s, drvSpec{name: "a", args: []string{"-c", `echo a > $out`}})
	b := mkDrv(t, s, drvSpec{name: "b", inputs: []string{a}, env: map[string]string{"allowedReferences": ""}, args: []string{"-c", `echo $dep000 > $out`}})
	_, err := build(t, s, Options{}, b)
	if err == nil || !strings.Contains(err.Error(), "is not allowed to refer to the following paths:\n  ") {
		t.Fatalf("error %v", err)
	}
	c := mkDrv(t, s, drvSpec{name: "c", inputs: []string{a}, env: map[string]string{"disallowedRequisites": "/dev/null"}, args: []string{"-c", `echo $dep000 > $out`}})
	if _, err = build(t, s, Options{}, c); err == nil || !strings.Contains(err.Error(), "illegal reference specifier") {
		t.Fatalf("error %v", err)
	}
	ad, _ := s.ReadDerivation(a)
	d := mkDrv(t, s, drvSpec{name: "d", inputs: []string{a}, env: map[string]string{"allowedReferences": ad.Outputs["out"].Path}, args: []string{"-c", `echo $dep000 > $out`}})
	mustBuild(t, s, Options{}, d)
}

func TestWrongPlatform(t *testing.T) {
	s := testStore(t)
	drv := mkDrv(t, s, drvSpec{name: "foreign", system: "aarch64-darwin", args: []string{"-c", "echo > $out"}})
	_, err := build(t, s, Options{}, drv)
	if err == nil || !strings.Contains(err.Error(), "'aarch64-darwin'") || !strings.Contains(err.Error(), "'"+HostSystem()+"'") {
		t.Fatalf("error %v", err)
	}
	drv2 := mkDrv(t, s, drvSpec{name: "foreign", system: "i686-linux", args: []string{"-c", "echo > $out"}})
	if _, err := build(t, s, Options{}, drv2); err == nil {
		t.Fatalf("i686-linux built without extra-platforms")
	}
	if HostSystem() == "x86_64-linux" {
		needSandbox(t)
		mustBuild(t, s, Options{ExtraPlatforms: []string{"i686-linux"}}, drv2)
	}
}

func TestSandboxHidesHost(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	os.WriteFile(secret, []byte("secret\n"), 0o644)
	os.Chmod(secretDir, 0o755)
	script := `if read x < ` + secret + `; then echo "read $x"; exit 1; fi; if [ -e /root ] || [ -e /home ] || [ -e /usr ]; then echo host visible; exit 1; fi; echo ok > $out`
	drv := mkDrv(t, s, drvSpec{name: "hidden", args: []string{"-c", script}})
	mustBuild(t, s, Options{}, drv)
	// Without the sandbox the same builder sees the file.
	drv2 := mkDrv(t, s, drvSpec{name: "hidden2", args: []string{"-c", script}})
	if _, err := build(t, s, Options{Sandbox: SandboxOff}, drv2); err == nil || !strings.Contains(err.Error(), "read secret") {
		t.Fatalf("unsandboxed build: %v", err)
	}
}

func TestCheckNondeterministic(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	script := `mkdir=; read up idle < /proc/uptime; echo "same" > $out; echo "$up $idle" >> $out`
	drv := mkDrv(t, s, drvSpec{name: "nondet", args: []string{"-c", script}})
	mustBuild(t, s, Options{}, drv)
	_, err := build(t, s, Options{Check: true}, drv)
	if err == nil || !strings.Contains(err.Error(), "may not be deterministic") || !strings.Contains(err.Error(), "file '.' differs: sizes") || !strings.Contains(err.Error(), "first difference at byte") {
		t.Fatalf("check: %v", err)
	}
	det := mkDrv(t, s, drvSpec{name: "det", args: []string{"-c", "echo same > $out"}})
	mustBuild(t, s, Options{}, det)
	mustBuild(t, s, Options{Check: true}, det)
}

func TestCancel(t *testing.T) {
	needSandbox(t)
	s := testStore(t)
	drv := mkDrv(t, s, drvSpec{name: "forever", args: []string{"-c", `echo started; echo partial > $out; while :; do :; done`}})
	ctx, cancel := context.WithCancel(context.Background())
	rep := funcReporter{line: func(string, string) { cancel() }}
	_, err := New(s, Options{Reporter: rep}).Build(ctx, []Target{{DrvPath: drv}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	d, _ := s.ReadDerivation(drv)
	if _, err := os.Lstat(d.Outputs["out"].Path); err == nil {
		t.Errorf("partial output left")
	}
	entries, _ := os.ReadDir(string(s.StoreDir()))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-build") {
			t.Errorf("scratch directory %s left", e.Name())
		}
	}
}
