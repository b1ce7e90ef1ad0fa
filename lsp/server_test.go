package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang/analysis"
)

func testOptions() Options {
	return Options{
		NewEval: func() (*eval.Eval, error) {
			return eval.New(eval.Options{
				Builtins:     builtins.Builtins(&builtins.Config{System: "x86_64-linux", StoreDir: "/nix/store"}),
				Stderr:       io.Discard,
				MaxCallDepth: 10000,
			}), nil
		},
		Globals: builtins.Names(),
		Docs:    builtins.Docs(),
	}
}

func TestPositions(t *testing.T) {
	text := "let\r\n  s = \"é😀\"; x = 1;\n\ty = x;\rin y"
	d := newDocument("untitled:x", 1, text, analysis.Config{Globals: builtins.Names()})
	for _, tc := range []struct {
		line, char uint32
		off        int
	}{
		{0, 0, 0},
		{1, 2, 7},
		{1, 7, 12},  // é
		{1, 8, 14},  // 😀, after é (1 unit, 2 bytes)
		{1, 10, 18}, // after 😀 (2 units, 4 bytes)
		{1, 13, 21}, // x
		{2, 1, 29},
		{3, 0, 36},
		{3, 99, 40}, // clamped to the line
		{9, 0, 40},  // clamped to the text
	} {
		off := d.offset(protocol.Position{Line: tc.line, Character: tc.char})
		if off != tc.off {
			t.Errorf("offset(%d:%d) = %d, want %d", tc.line, tc.char, off, tc.off)
		}
		if tc.char < 99 && tc.line < 9 {
			if p := d.position(off); p.Line != tc.line || p.Character != tc.char {
				t.Errorf("position(%d) = %v", off, p)
			}
		}
	}
}

// client runs a server on a pipe and talks to it.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	id   int
	done chan error
}

func startServer(t *testing.T, opts Options) *client {
	a, b := net.Pipe()
	c := &client{t: t, conn: a, r: bufio.NewReader(a), done: make(chan error, 1)}
	go func() { c.done <- Serve(context.Background(), b, opts) }()
	t.Cleanup(func() { a.Close() })
	c.call("initialize", map[string]any{"capabilities": map[string]any{}})
	c.send(map[string]any{"method": "initialized", "params": map[string]any{}})
	return c
}

func (c *client) send(m map[string]any) {
	m["jsonrpc"] = "2.0"
	b, _ := json.Marshal(m)
	fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n%s", len(b), b)
}

func (c *client) read() map[string]json.RawMessage {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n := 0
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatal(err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, n)
	io.ReadFull(c.r, body)
	var m map[string]json.RawMessage
	json.Unmarshal(body, &m)
	return m
}

// call returns the raw result, skipping notifications.
func (c *client) call(method string, params any) json.RawMessage {
	c.t.Helper()
	c.id++
	go c.send(map[string]any{"id": c.id, "method": method, "params": params})
	for {
		m := c.read()
		if m["method"] != nil {
			continue
		}
		if m["error"] != nil {
			c.t.Fatalf("%s: %s", method, m["error"])
		}
		return m["result"]
	}
}

func (c *client) open(uri, text string) {
	go c.send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "nix", "version": 1, "text": text}}})
	c.read() // the diagnostics
}

func posOf(text, sub string, delta int) map[string]int {
	off := strings.Index(text, sub) + delta
	line := strings.Count(text[:off], "\n")
	return map[string]int{"line": line, "character": off - (strings.LastIndex(text[:off], "\n") + 1)}
}

func TestFeatures(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "default.nix"), []byte("1"), 0o644)
	uri := "file://" + filepath.Join(dir, "f.nix")
	text := `{ port ? 8000 + 80, lib }:
with { fromWith = 1; wide = 2; };
let
  cfg = { inherit port; name = "x"; };
  sub = import ./sub;
  inherit (cfg) name;
in {
  a = cfg.port;
  b = fromWith + wide;
  c = lib.x;
}
`
	c := startServer(t, testOptions())
	c.open(uri, text)
	at := func(sub string, delta int) map[string]any {
		return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": posOf(text, sub, delta)}
	}
	hover := func(sub string, delta int) string {
		var h protocol.Hover
		json.Unmarshal(c.call("textDocument/hover", at(sub, delta)), &h)
		return h.Contents.Value
	}
	if h := hover("port ?", 0); !strings.Contains(h, "formal argument") || !strings.Contains(h, "8080") {
		t.Errorf("hover on port: %q", h)
	}
	if h := hover("cfg.port", 5); !strings.Contains(h, "8080") {
		t.Errorf("hover on cfg.port: %q", h)
	}
	if h := hover("fromWith +", 0); !strings.Contains(h, "an integer") {
		t.Errorf("hover on fromWith: %q", h)
	}
	if h := hover("lib }", 0); !strings.Contains(h, "only known when the function is called") {
		t.Errorf("hover on lib: %q", h)
	}
	if h := hover("name;", 0); !strings.Contains(h, `"x"`) {
		t.Errorf("hover on the inherited name: %q", h)
	}
	if h := hover("with", 0); h != "" {
		t.Errorf("hover on with: %q", h)
	}

	var list protocol.CompletionList
	json.Unmarshal(c.call("textDocument/completion", at("fromWith +", 2)), &list)
	labels := map[string]protocol.CompletionItemKind{}
	for _, it := range list.Items {
		labels[it.Label] = it.Kind
	}
	if labels["fromWith"] != protocol.CompletionItemKindField || labels["wide"] == 0 || labels["cfg"] == 0 || labels["port"] == 0 {
		t.Errorf("completion in with: %v", labels)
	}
	list = protocol.CompletionList{}
	json.Unmarshal(c.call("textDocument/completion", at("cfg.port", 4)), &list)
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Label)
	}
	if strings.Join(names, " ") != "port name" {
		t.Errorf("completion of cfg.: %v", names)
	}

	var locs []protocol.Location
	json.Unmarshal(c.call("textDocument/definition", at("./sub", 2)), &locs)
	if len(locs) != 1 || !strings.HasSuffix(string(locs[0].URI), "/sub/default.nix") {
		t.Errorf("definition of ./sub: %v", locs)
	}
	locs = nil
	json.Unmarshal(c.call("textDocument/definition", at("cfg.port", 5)), &locs)
	if len(locs) != 1 || locs[0].Range.Start.Line != 3 || locs[0].Range.Start.Character != 18 {
		t.Errorf("definition of cfg.port: %v", locs)
	}

	// Exit without shutdown.
	go c.send(map[string]any{"method": "exit"})
	select {
	case err := <-c.done:
		if err != ErrNoShutdown {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("no exit")
	}
}

// TestLibraryHover: hovering a name of a selection that the library
// documents shows its documentation, whatever the value is.
func TestLibraryHover(t *testing.T) {
	uri := "file://" + filepath.Join(t.TempDir(), "f.nix")
	text := "{ nixl }: [ nixl.lib.strings.toUpper nixl.lib.other ]\n"
	opts := testOptions()
	var asked []string
	opts.LibraryDoc = func(path string) (string, bool) {
		asked = append(asked, path)
		if path == "nixl.lib.strings.toUpper" {
			return "toUpper :: string -> string", true
		}
		return "", false
	}
	c := startServer(t, opts)
	c.open(uri, text)
	hover := func(sub string, delta int) string {
		var h protocol.Hover
		json.Unmarshal(c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": posOf(text, sub, delta)}), &h)
		return h.Contents.Value
	}
	if h := hover("toUpper", 2); h != "toUpper :: string -> string" {
		t.Errorf("hover on toUpper: %q", h)
	}
	if h := hover("other", 1); strings.Contains(h, "string ->") {
		t.Errorf("hover on other: %q", h)
	}
	if want := "nixl.lib.strings.toUpper nixl.lib.other"; strings.Join(asked, " ") != want {
		t.Errorf("asked %q, want %q", strings.Join(asked, " "), want)
	}
}
