package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nixl-project/nixl/realise/store/local"
)

// LogPath is where the log of drvPath's build is kept:
// <state>/log/drvs/<first two characters of the .drv base name>/<rest>,
// as Nix lays out /nix/var/log/nix/drvs.
func LogPath(s *local.Store, drvPath string) string {
	base := filepath.Base(drvPath)
	if len(base) < 3 {
		return filepath.Join(s.StateDir(), "log", "drvs", base)
	}
	return filepath.Join(s.StateDir(), "log", "drvs", base[:2], base[2:])
}

// openLog creates (truncating) the log file of a build.
func (b *Builder) openLog(drvPath string) (*os.File, error) {
	p := LogPath(b.store, drvPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// logWriter receives the builder's output: it writes it to the log file,
// passes each line to onLine, and keeps the last lines for the error
// message of a failure. A carriage return starts the line again, as on a
// terminal.
type logWriter struct {
	mu     sync.Mutex
	file   *os.File
	onLine func(string)
	max    int
	last   []string
	cur    bytes.Buffer
}

func newLogWriter(f *os.File, max int, onLine func(string)) *logWriter {
	return &logWriter{file: f, onLine: onLine, max: max}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	w.file.Write(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.cur.Write(p)
			break
		}
		w.cur.Write(p[:i])
		w.line()
		p = p[i+1:]
	}
	return n, nil
}

func (w *logWriter) line() {
	s := w.cur.String()
	w.cur.Reset()
	if i := strings.LastIndexByte(strings.TrimRight(s, "\r"), '\r'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimRight(s, "\r")
	w.last = append(w.last, s)
	if len(w.last) > w.max {
		w.last = w.last[len(w.last)-w.max:]
	}
	if w.onLine != nil {
		w.onLine(s)
	}
}

// Flush ends a last line without a newline.
func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur.Len() > 0 {
		w.line()
	}
}

// Last returns the last lines logged.
func (w *logWriter) Last() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.last...)
}
