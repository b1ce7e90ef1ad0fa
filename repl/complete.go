package repl

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang"
)

var keywords = []string{"assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with"}

// Complete returns the completions of the word before pos in line: the
// word starts at start, and each candidate replaces line[start:pos].
func (s *Session) Complete(line string, pos int) (start int, candidates []string) {
	if pos > len(line) {
		pos = len(line)
	}
	before := line[:pos]
	trimmed := strings.TrimLeft(before, " \t")
	if strings.HasPrefix(trimmed, ":") {
		lead := len(before) - len(trimmed)
		i := strings.IndexAny(trimmed, " \t")
		if i < 0 {
			return lead, withPrefix(Commands, trimmed)
		}
		cmd := trimmed[:i]
		argStart := lead + i
		for argStart < len(before) && (before[argStart] == ' ' || before[argStart] == '\t') {
			argStart++
		}
		switch cmd {
		case ":l", ":load":
			return argStart, completeFile(s.opts.Dir, before[argStart:])
		case ":doc":
			var names []string
			for n := range s.docs {
				names = append(names, n)
			}
			sort.Strings(names)
			return argStart, withPrefix(names, before[argStart:])
		case ":q", ":quit", ":r", ":reload", ":?", ":help":
			return pos, nil
		}
	}
	i := pos
	for i > 0 && (isIdentChar(before[i-1]) || before[i-1] == '.') {
		i--
	}
	word := before[i:]
	if dot := strings.LastIndexByte(word, '.'); dot >= 0 {
		base, partial := word[:dot], word[dot+1:]
		if base == "" {
			return pos, nil
		}
		var out []string
		for _, n := range s.AttrNames(base) {
			if strings.HasPrefix(n, partial) {
				var b strings.Builder
				lang.WriteAttrName(&b, n)
				out = append(out, base+"."+b.String())
			}
		}
		return i, out
	}
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range s.names {
		add(n)
	}
	for _, n := range s.e.GlobalNames() {
		if !strings.HasPrefix(n, "__") || strings.HasPrefix(word, "__") {
			add(n)
		}
	}
	for _, k := range keywords {
		add(k)
	}
	sort.Strings(names)
	return i, withPrefix(names, word)
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeFile completes a file name relative to dir.
func completeFile(dir, word string) []string {
	d, base := filepath.Split(word)
	look := d
	if !filepath.IsAbs(look) {
		look = filepath.Join(dir, d)
	}
	entries, err := os.ReadDir(look)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		out = append(out, d+n)
	}
	sort.Strings(out)
	return out
}

// AttrNames evaluates src within the completion budget and returns the
// names of its attributes, sorted, if it is a set.
func (s *Session) AttrNames(src string) []string {
	var names []string
	s.WithBudget(s.opts.CompletionBudget, func() {
		v, err := s.EvalString(src)
		if err != nil || v.Kind() != eval.KindAttrs {
			return
		}
		for _, a := range v.AttrsValue().Lexicographic() {
			names = append(names, a.Name.String())
		}
	})
	return names
}

// WithBudget runs f, interrupting the evaluator if it takes longer than
// d, and leaves the evaluator ready for the next evaluation. Panics in f
// are recovered.
func (s *Session) WithBudget(d time.Duration, f func()) {
	e := s.e
	e.ClearInterrupt()
	var mu sync.Mutex
	finished := false
	timer := time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			e.Interrupt()
		}
	})
	defer func() {
		recover()
		timer.Stop()
		mu.Lock()
		finished = true
		mu.Unlock()
		e.ClearInterrupt()
	}()
	f()
}

// LineReader reads lines for Run: the terminal's line editor, or a script.
type LineReader interface {
	// ReadLine shows prompt and returns a line without its newline,
	// ErrInterrupt when the user pressed Ctrl-C, io.EOF at the end.
	ReadLine(prompt string) (string, error)
}

// ErrInterrupt is what a LineReader returns for Ctrl-C: the input so far
// is dropped.
var ErrInterrupt = errors.New("interrupt")

// Prompt is the REPL's prompt; continuation lines get as many spaces.
const Prompt = "nixl-repl> "

// Run reads and executes inputs until :q or the end of the input. An
// input goes on over several lines while it is incomplete.
func Run(s *Session, r LineReader) error {
	var pending strings.Builder
	for {
		prompt := Prompt
		if pending.Len() > 0 {
			prompt = strings.Repeat(" ", len(Prompt))
		}
		line, err := r.ReadLine(prompt)
		if errors.Is(err, ErrInterrupt) {
			pending.Reset()
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		pending.WriteString(line)
		pending.WriteString("\n")
		input := pending.String()
		if s.Incomplete(input) {
			continue
		}
		pending.Reset()
		if err := s.Exec(input); errors.Is(err, ErrQuit) {
			return nil
		}
	}
}
