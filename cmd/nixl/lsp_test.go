package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lspClient speaks JSON-RPC to a language server as an editor does.
type lspClient struct {
	t     *testing.T
	w     io.Writer
	msgs  chan map[string]json.RawMessage
	queue []map[string]json.RawMessage // notifications not yet looked at
	id    int
}

func newLSPClient(t *testing.T, r io.Reader, w io.Writer) *lspClient {
	c := &lspClient{t: t, w: w, msgs: make(chan map[string]json.RawMessage, 100)}
	go func() {
		defer close(c.msgs)
		br := bufio.NewReader(r)
		for {
			length := -1
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				line = strings.TrimSpace(line)
				if line == "" {
					break
				}
				if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
					length, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
			if length < 0 {
				return
			}
			body := make([]byte, length)
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				return
			}
			c.msgs <- m
		}
	}()
	return c
}

func (c *lspClient) write(msg map[string]any) {
	c.t.Helper()
	msg["jsonrpc"] = "2.0"
	b, _ := json.Marshal(msg)
	if _, err := fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *lspClient) notify(method string, params any) {
	c.t.Helper()
	c.write(map[string]any{"method": method, "params": params})
}

// next returns the next message, failing after a timeout.
func (c *lspClient) next() map[string]json.RawMessage {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("the server closed the connection")
		}
		return m
	case <-time.After(20 * time.Second):
		c.t.Fatal("timed out waiting for the server")
	}
	return nil
}

// call sends a request and returns its result (failing on an error).
func (c *lspClient) call(method string, params any, result any) {
	c.t.Helper()
	c.id++
	id := c.id
	start := time.Now()
	c.write(map[string]any{"id": id, "method": method, "params": params})
	for {
		m := c.next()
		if _, isResponse := m["id"]; !isResponse || m["method"] != nil {
			c.queue = append(c.queue, m)
			continue
		}
		var got int
		json.Unmarshal(m["id"], &got)
		if got != id {
			c.t.Fatalf("response to %d while waiting for %d", got, id)
		}
		if e := m["error"]; e != nil {
			c.t.Fatalf("%s: error %s", method, e)
		}
		if d := time.Since(start); d > 5*time.Second {
			c.t.Errorf("%s took %v", method, d)
		}
		if result != nil {
			if err := json.Unmarshal(m["result"], result); err != nil {
				c.t.Fatalf("%s: %v in %s", method, err, m["result"])
			}
		}
		return
	}
}

type lspDiagnostic struct {
	Range struct {
		Start struct{ Line, Character int }
		End   struct{ Line, Character int }
	}
	Severity int
	Code     string
	Message  string
}

// diagnostics waits for the next diagnostics published for uri.
func (c *lspClient) diagnostics(uri string) []lspDiagnostic {
	c.t.Helper()
	for {
		var m map[string]json.RawMessage
		if len(c.queue) > 0 {
			m, c.queue = c.queue[0], c.queue[1:]
		} else {
			m = c.next()
		}
		var method string
		json.Unmarshal(m["method"], &method)
		if method != "textDocument/publishDiagnostics" {
			continue
		}
		var p struct {
			URI         string
			Diagnostics []lspDiagnostic
		}
		json.Unmarshal(m["params"], &p)
		if p.URI == uri {
			if p.Diagnostics == nil {
				c.t.Fatal("diagnostics must be a list, not null")
			}
			return p.Diagnostics
		}
	}
}

func fileURI(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// pos is the LSP position of the n-th (from 1) occurrence of sub in
// text, plus delta bytes.
func lspPos(text, sub string, n, delta int) map[string]int {
	off := -1
	for i := 0; i < n; i++ {
		j := strings.Index(text[off+1:], sub)
		if j < 0 {
			panic("no " + sub)
		}
		off += 1 + j
	}
	off += delta
	line := strings.Count(text[:off], "\n")
	col := off - (strings.LastIndex(text[:off], "\n") + 1)
	return map[string]int{"line": line, "character": col}
}

type lspServer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	client *lspClient
}

func startLSP(t *testing.T, bin string) *lspServer {
	cmd := exec.Command(bin, "lsp")
	cmd.Env = append(os.Environ(), "NIXL_STORE_DIR="+filepath.Join(t.TempDir(), "store"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &lspServer{cmd: cmd, stdin: stdin, client: newLSPClient(t, stdout, stdin)}
	var init struct {
		Capabilities map[string]json.RawMessage
		ServerInfo   struct{ Name string }
	}
	s.client.call("initialize", map[string]any{"processId": os.Getpid(), "rootUri": nil, "capabilities": map[string]any{}}, &init)
	if init.ServerInfo.Name != "nixl" || string(init.Capabilities["hoverProvider"]) != "true" ||
		init.Capabilities["completionProvider"] == nil || string(init.Capabilities["definitionProvider"]) != "true" ||
		string(init.Capabilities["documentSymbolProvider"]) != "true" {
		t.Fatalf("initialize: %+v", init)
	}
	s.client.notify("initialized", map[string]any{})
	return s
}

// stop sends shutdown and exit and checks the server ends cleanly.
func (s *lspServer) stop(t *testing.T) {
	s.client.call("shutdown", nil, nil)
	s.client.notify("exit", nil)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the server did not exit")
	}
}

type hoverResult struct {
	Contents struct{ Kind, Value string }
}

func testLSP(t *testing.T, bin string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "other.nix"), []byte("{ fromOther = 1; }\n"), 0o644)
	path := filepath.Join(dir, "main.nix")
	uri := fileURI(path)
	s := startLSP(t, bin)
	c := s.client

	// A broken file: diagnostics arrive.
	broken := "let\n  x = 1;\n  y = x +;\nin y + z\n"
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "nix", "version": 1, "text": broken}})
	diags := c.diagnostics(uri)
	codes := map[string]bool{}
	for _, d := range diags {
		codes[d.Code] = true
		if d.Severity != 1 || d.Message == "" {
			t.Errorf("diagnostic %+v", d)
		}
	}
	if !codes["syntax-error"] || !codes["undefined-variable"] {
		t.Fatalf("diagnostics of the broken file: %+v", diags)
	}
	if d := diags[0]; d.Range.Start.Line != 2 || d.Range.Start.Character != 9 {
		t.Errorf("first diagnostic at %+v", d.Range)
	}

	// Fixed: they clear.
	text := `let
  pkgs = { hello = "world"; version = 42; };
  double = n: n * 2;
  answer = double 21;
  other = import ./other.nix;
in {
  inherit pkgs;
  result = builtins.map double [ 1 2 ];
  value = answer + other.fromOther;
}
`
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"text": text}}})
	if diags := c.diagnostics(uri); len(diags) != 0 {
		t.Fatalf("diagnostics of the fixed file: %+v", diags)
	}

	at := func(sub string, n, delta int) map[string]any {
		return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos(text, sub, n, delta)}
	}
	// Hover on a builtin: its documentation.
	var h hoverResult
	c.call("textDocument/hover", at("map double", 1, 1), &h)
	if h.Contents.Kind != "markdown" || !strings.Contains(h.Contents.Value, "builtins.map f list") {
		t.Errorf("hover on map: %+v", h)
	}
	// Hover on a binding: its type and value.
	h = hoverResult{}
	c.call("textDocument/hover", at("answer +", 1, 2), &h)
	if v := h.Contents.Value; !strings.Contains(v, "let binding") || !strings.Contains(v, "an integer") || !strings.Contains(v, "42") {
		t.Errorf("hover on answer: %q", v)
	}
	h = hoverResult{}
	c.call("textDocument/hover", at("pkgs = {", 1, 1), &h)
	t.Logf("hover on pkgs: %q", h.Contents.Value)
	if v := h.Contents.Value; !strings.Contains(v, "a set") || !strings.Contains(v, `hello = "world";`) {
		t.Errorf("hover on pkgs: %q", v)
	}

	// Completion: names in scope and builtins, and attributes of a set.
	var list struct{ Items []struct{ Label string } }
	c.call("textDocument/completion", at("double [", 1, 3), &list)
	labels := map[string]bool{}
	for _, it := range list.Items {
		labels[it.Label] = true
	}
	for _, want := range []string{"double", "answer", "pkgs", "map", "builtins", "let"} {
		if !labels[want] {
			t.Errorf("completion lacks %s", want)
		}
	}
	// While typing pkgs. (the file is broken then).
	typing := strings.Replace(text, "inherit pkgs;", "typed = pkgs.;", 1)
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 3},
		"contentChanges": []any{map[string]any{"text": typing}}})
	c.diagnostics(uri)
	list.Items = nil
	c.call("textDocument/completion", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos(typing, "pkgs.;", 1, 5)}, &list)
	labels = map[string]bool{}
	for _, it := range list.Items {
		labels[it.Label] = true
	}
	if !labels["hello"] || !labels["version"] || len(labels) != 2 {
		t.Errorf("completion of pkgs.: %v", labels)
	}
	list.Items = nil
	c.call("textDocument/completion", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos(typing, "builtins.map", 1, 9)}, &list)
	labels = map[string]bool{}
	for _, it := range list.Items {
		labels[it.Label] = true
	}
	if !labels["foldl'"] || !labels["map"] {
		t.Errorf("completion of builtins.: %d items", len(labels))
	}
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 4},
		"contentChanges": []any{map[string]any{"text": text}}})
	c.diagnostics(uri)

	// Definition: of a let binding, of an inherited name, of an import.
	var locs []struct {
		URI   string
		Range struct{ Start struct{ Line, Character int } }
	}
	c.call("textDocument/definition", at("double [", 1, 2), &locs)
	if len(locs) != 1 || locs[0].URI != uri || locs[0].Range.Start.Line != 2 || locs[0].Range.Start.Character != 2 {
		t.Errorf("definition of double: %+v", locs)
	}
	locs = nil
	c.call("textDocument/definition", at("pkgs;", 1, 1), &locs)
	if len(locs) != 1 || locs[0].Range.Start.Line != 1 || locs[0].Range.Start.Character != 2 {
		t.Errorf("definition of the inherited pkgs: %+v", locs)
	}
	locs = nil
	c.call("textDocument/definition", at("./other.nix", 1, 3), &locs)
	if len(locs) != 1 || locs[0].URI != fileURI(filepath.Join(dir, "other.nix")) {
		t.Errorf("definition of the import: %+v", locs)
	}

	// Document symbols: the let bindings and the attributes.
	var syms []struct {
		Name     string
		Kind     int
		Children []struct{ Name string }
	}
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms)
	var names []string
	for _, s := range syms {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "pkgs double answer other pkgs result value" {
		t.Errorf("symbols: %s", got)
	}
	if len(syms) > 0 && (len(syms[0].Children) != 2 || syms[0].Children[0].Name != "hello") {
		t.Errorf("children of pkgs: %+v", syms[0].Children)
	}
	if len(syms) > 1 && syms[1].Kind != 12 {
		t.Errorf("double is not a function: %+v", syms[1])
	}

	// Closing clears the diagnostics.
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 5},
		"contentChanges": []any{map[string]any{"text": broken}}})
	if len(c.diagnostics(uri)) == 0 {
		t.Error("no diagnostics for the broken text")
	}
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	if d := c.diagnostics(uri); len(d) != 0 {
		t.Errorf("diagnostics after close: %+v", d)
	}
	s.stop(t)
}

// testLSPRobust hovers over values whose evaluation runs forever, recurses
// without end or fails: each answer comes within the budget and the server
// goes on.
func testLSPRobust(t *testing.T, bin string) {
	dir := t.TempDir()
	uri := fileURI(filepath.Join(dir, "robust.nix"))
	text := `{ arg, opt ? 3 }:
let
  slow = builtins.foldl' (acc: i: builtins.foldl' (a: j: a + j) acc (builtins.genList (x: x) 10000)) 0 (builtins.genList (x: x) 10000);
  deep = let f = x: f (x + 1); in f 0;
  boom = abort "no";
  usesArg = arg + 1;
  usesOpt = opt * 2;
  fine = "ok";
in [ slow deep boom usesArg usesOpt fine ]
`
	s := startLSP(t, bin)
	c := s.client
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "nix", "version": 1, "text": text}})
	if d := c.diagnostics(uri); len(d) != 0 {
		t.Fatalf("diagnostics: %+v", d)
	}
	for _, tc := range []struct{ name, want string }{
		{"slow", "took longer than the time budget"},
		{"deep", "max-call-depth exceeded"},
		{"boom", "evaluation aborted with the following error message: 'no'"},
		{"usesArg", "depends on the function argument 'arg'"},
		{"usesOpt", "6"},
		{"fine", `"ok"`},
	} {
		var h hoverResult
		start := time.Now()
		c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos(text, tc.name+" =", 1, 1)}, &h)
		t.Logf("hover on %s: %q", tc.name, h.Contents.Value)
		if !strings.Contains(h.Contents.Value, tc.want) {
			t.Errorf("hover on %s: %q, want %q", tc.name, h.Contents.Value, tc.want)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("hover on %s took %v", tc.name, d)
		}
	}
	// An unknown method is an error, not the end of the server.
	c.id++
	c.write(map[string]any{"id": c.id, "method": "textDocument/unknownThing", "params": map[string]any{}})
	if m := c.next(); m["error"] == nil {
		t.Errorf("unknown method: %v", m)
	}
	var syms []any
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms)
	if len(syms) != 6 {
		t.Errorf("%d symbols", len(syms))
	}
	s.stop(t)
}
