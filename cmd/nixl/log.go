package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	xterm "golang.org/x/term"

	"github.com/nixl-project/nixl/realise/build"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	register(&command{name: "log", summary: "print the build log of a derivation or of an output path (nix log)", run: func(c *cli, args []string) int {
		return c.logCmd(args)
	}})
}

// logCmd prints the log of DRV, or of the derivation OUTPUT was built by.
func (c *cli) logCmd(args []string) int {
	var o storeOpts
	fs := pflag.NewFlagSet("log", pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&o.storeDir, "store-dir", "", "the store `DIR` (default: $NIXL_STORE_DIR, else the per-user store)")
	fs.StringVar(&o.stateDir, "state-dir", "", "the state `DIR` (default: $NIXL_STATE_DIR, else the per-user one)")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: nixl log [FLAGS] DRV|OUTPUT…\n\nPrint the build log of derivations, or of the derivations output paths were built by.\n\nFlags:\n%s", fs.FlagUsages())
	}
	if rc, stop := c.parseFlags(fs, args); stop {
		return rc
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 1
	}
	return c.withStore(&o, func(s *local.Store) error {
		for _, arg := range fs.Args() {
			if err := printLog(c.stdout, s, arg); err != nil {
				return err
			}
		}
		return nil
	})
}

func printLog(w io.Writer, s *local.Store, arg string) error {
	p := arg
	if target, err := filepath.EvalSymlinks(arg); err == nil && !strings.HasPrefix(filepath.Clean(arg), s.Dir()+"/") {
		p = target // a result link
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	sp, err := s.ToStorePath(p)
	if err != nil {
		return err
	}
	var drvs []string
	if strings.HasSuffix(sp, store.DrvExtension) {
		drvs = []string{sp}
	} else {
		if info, err := s.QueryPathInfo(sp); err == nil && info.Deriver != "" {
			drvs = append(drvs, info.Deriver)
		}
		ds, err := s.QueryValidDerivers(sp)
		if err != nil {
			return err
		}
		drvs = append(drvs, ds...)
	}
	for _, d := range drvs {
		data, err := os.ReadFile(build.LogPath(s, d))
		if err == nil {
			_, err = w.Write(data)
			return err
		}
	}
	return fmt.Errorf("build log of '%s' is not available", arg)
}

// buildReporter shows the progress of builds on stderr: on a terminal a
// status line "[built/total] building NAME…: last log line" redrawn as
// things change (with -L the log lines scroll above it, prefixed with
// "NAME> "); otherwise plain lines, "building '…drv'..." and with -L the
// prefixed log lines.
type buildReporter struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	width    int
	logs     bool
	total    int
	built    int
	running  []string // drv paths, in start order
	names    map[string]string
	last     map[string]string
	status   bool // a status line is on screen
	lastDraw time.Time
	closed   bool
	subst    substStatus // substitute.go
}

func newBuildReporter(w io.Writer, s *local.Store, logs bool) *buildReporter {
	r := &buildReporter{w: w, logs: logs, names: map[string]string{}, last: map[string]string{}}
	if f, ok := w.(*os.File); ok && xterm.IsTerminal(int(f.Fd())) {
		r.tty = true
		if width, _, err := xterm.GetSize(int(f.Fd())); err == nil && width > 0 {
			r.width = width
		}
	}
	if r.width == 0 {
		r.width = 80
	}
	return r
}

// drvName is the derivation name of a .drv path.
func drvName(drvPath string) string {
	base := strings.TrimSuffix(filepath.Base(drvPath), store.DrvExtension)
	if i := strings.IndexByte(base, '-'); i >= 0 {
		return base[i+1:]
	}
	return base
}

func (r *buildReporter) Planned(drvPaths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += len(drvPaths)
	r.clearLocked()
	fmt.Fprintf(r.w, "%s:\n", plural(len(drvPaths), "this derivation will be built", "these %d derivations will be built"))
	for _, d := range drvPaths {
		fmt.Fprintf(r.w, "  %s\n", d)
	}
	r.drawLocked(true)
}

func (r *buildReporter) Started(drvPath string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = append(r.running, drvPath)
	r.names[drvPath] = drvName(drvPath)
	if !r.tty {
		fmt.Fprintf(r.w, "building '%s'...\n", drvPath)
		return
	}
	r.drawLocked(true)
}

func (r *buildReporter) Line(drvPath, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[drvPath] = line
	if r.logs {
		r.clearLocked()
		fmt.Fprintf(r.w, "%s> %s\n", r.names[drvPath], line)
		r.drawLocked(true)
		return
	}
	r.drawLocked(false)
}

func (r *buildReporter) Finished(drvPath string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, d := range r.running {
		if d == drvPath {
			r.running = append(r.running[:i], r.running[i+1:]...)
			break
		}
	}
	delete(r.last, drvPath)
	if err == nil {
		r.built++
	}
	r.drawLocked(true)
}

// close removes the status line.
func (r *buildReporter) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	r.closed = true
}

func (r *buildReporter) clearLocked() {
	if r.tty && r.status {
		fmt.Fprint(r.w, "\r\x1b[K")
		r.status = false
	}
}

// drawLocked redraws the status line, at most 20 times a second unless
// forced.
func (r *buildReporter) drawLocked(force bool) {
	if !r.tty || r.closed {
		return
	}
	if !force && time.Since(r.lastDraw) < 50*time.Millisecond {
		return
	}
	r.lastDraw = time.Now()
	var sb strings.Builder
	fmt.Fprintf(&sb, "[%d/%d built", r.built, r.total)
	if len(r.running) > 0 {
		fmt.Fprintf(&sb, ", %d running", len(r.running))
	}
	substCounts, substActivity := r.substStatusLocked()
	sb.WriteString(substCounts + "]" + substActivity)
	if len(r.running) > 0 {
		if substActivity != "" {
			sb.WriteString(",")
		}
		var names []string
		for _, d := range r.running {
			names = append(names, r.names[d])
		}
		fmt.Fprintf(&sb, " building %s", strings.Join(names, ", "))
		latest := r.running[len(r.running)-1]
		if l := r.last[latest]; l != "" {
			fmt.Fprintf(&sb, ": %s", l)
		}
	}
	line := strings.Map(func(c rune) rune {
		if c < ' ' {
			return ' '
		}
		return c
	}, sb.String())
	if runes := []rune(line); len(runes) > r.width-1 {
		line = string(runes[:r.width-2]) + "…"
	}
	fmt.Fprint(r.w, "\r\x1b[K"+line)
	r.status = true
}
