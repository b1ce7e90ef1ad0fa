// Package lsp is nixl's language server: the logic behind `nixl lsp`,
// which speaks the Language Server Protocol over standard input and
// output.
//
// # Design
//
// The transport and the protocol's types come from go.lsp.dev/jsonrpc2
// and go.lsp.dev/protocol (the JSON-RPC 2.0 implementation ported from
// gopls, and typed LSP 3.16 messages). Requests are handled one at a
// time, in order, on the connection's reading goroutine: a document is
// always analysed in the version the request was made against, and the
// only slow work, evaluation, is bounded (below).
//
// Documents are synchronised in full (TextDocumentSyncKindFull). Each
// version is parsed in tolerant mode and analysed by lang/analysis in a
// file set of its own, so nothing of older versions is kept; its
// diagnostics are published at once (an empty list clears them when the
// file is fixed, and on close).
//
// The features are static first: go-to-definition (let, rec, formals,
// arguments, inherit, attributes selected from sets known statically,
// and the file an `import ./path` names), document symbols (the outline
// of the top-level bindings and attributes), scope names and builtins for
// completion, and builtin documentation on hover. Where static analysis
// cannot know a value, the server evaluates: hover shows the type and a
// truncated, lazily printed value of the binding under the cursor, and
// completion after `expr.` lists the attributes of expr, as do the sets of
// enclosing `with`s. For that the current text is parsed again in a fresh
// evaluator, and analysis.Focus rewrites the tree so that the wanted
// expression is evaluated in the scope of its position (function
// arguments without defaults become errors: their values are unknown).
//
// Evaluation inside the server can never take it down: it runs on its
// own goroutine with a fresh evaluator per request, within a time budget
// (200 ms by default) and a memory budget (the heap growth is sampled
// every 5 ms); when either runs out the evaluator is interrupted, and an
// evaluation that does not stop within a grace period is abandoned. The
// evaluator's max-call-depth is lowered (nixl lsp uses 10,000), so deep
// recursion ends with an error rather than a huge stack, panics are
// recovered, trace output is discarded, and every handler recovers too,
// answering with an internal error instead of exiting.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/nixl-project/nixl/builtins"
	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/lang/analysis"
)

// Options configure the server.
type Options struct {
	// NewEval makes a fresh evaluator for one bounded evaluation; it
	// should discard trace output (Stderr) and have a modest
	// MaxCallDepth.
	NewEval func() (*eval.Eval, error)
	// Globals are the global names (builtins.Names()).
	Globals []string
	// Docs documents the builtins (builtins.Docs()).
	Docs []builtins.Doc
	// LibraryDoc, if set, returns the hover text (markdown) of a function
	// of the standard library named by an attribute path
	// (nixl.lib.strings.toUpper).
	LibraryDoc func(path string) (string, bool)
	// EvalBudget bounds each evaluation's time (default 200 ms),
	// MemoryBudget its heap growth (default 256 MiB), and Grace how long
	// an interrupted evaluation may take to stop (default 1 s).
	EvalBudget   time.Duration
	MemoryBudget uint64
	Grace        time.Duration
	// Log receives the server's own messages (nil: none).
	Log io.Writer
	// Version is reported to the client.
	Version string
}

type server struct {
	opts     Options
	conn     jsonrpc2.Conn
	docs     map[protocol.DocumentURI]*document
	docIndex map[string]builtins.Doc
	shutdown bool
	exited   bool
	exit     chan struct{}
}

// ErrNoShutdown is what Serve returns when the client exits without
// asking the server to shut down first (the LSP asks for exit code 1).
var ErrNoShutdown = errors.New("exit without shutdown")

// Serve runs the server on a stream (standard input and output) until
// the client sends exit or closes the stream.
func Serve(ctx context.Context, rwc io.ReadWriteCloser, opts Options) error {
	if opts.EvalBudget <= 0 {
		opts.EvalBudget = 200 * time.Millisecond
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = 256 << 20
	}
	if opts.Grace <= 0 {
		opts.Grace = time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &server{opts: opts, docs: map[protocol.DocumentURI]*document{}, docIndex: map[string]builtins.Doc{}, exit: make(chan struct{})}
	for _, d := range opts.Docs {
		s.docIndex[d.Name] = d
	}
	s.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(rwc))
	s.conn.Go(ctx, s.handle)
	select {
	case <-s.conn.Done():
		if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	case <-s.exit:
		if !s.shutdown {
			return ErrNoShutdown
		}
		return nil
	case <-ctx.Done():
		s.conn.Close()
		return ctx.Err()
	}
}

func (s *server) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "nixl lsp: "+format+"\n", args...)
}

func (s *server) config() analysis.Config {
	return analysis.Config{Globals: s.opts.Globals}
}

// handle dispatches a message. It never returns an error (which would
// end the connection): failures are replied.
func (s *server) handle(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("internal error in %s: %v", req.Method(), r)
			err = reply(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error: %v", r))
		}
	}()
	_, isCall := req.(*jsonrpc2.Call)
	if s.shutdown && req.Method() != "exit" {
		if isCall {
			return reply(ctx, nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "the server is shutting down"))
		}
		return nil
	}
	result, rerr := s.dispatch(ctx, req)
	if !isCall {
		return nil
	}
	if rerr != nil {
		if _, ok := rerr.(*jsonrpc2.Error); !ok {
			rerr = jsonrpc2.Errorf(jsonrpc2.InternalError, "%v", rerr)
		}
		return reply(ctx, nil, rerr)
	}
	return reply(ctx, result, nil)
}

func decode[T any](req jsonrpc2.Request) (*T, error) {
	var p T
	if err := json.Unmarshal(req.Params(), &p); err != nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params for %s: %v", req.Method(), err)
	}
	return &p, nil
}

func (s *server) dispatch(ctx context.Context, req jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case "initialize":
		return protocol.InitializeResult{
			Capabilities: protocol.ServerCapabilities{
				TextDocumentSync: protocol.TextDocumentSyncOptions{
					OpenClose: true,
					Change:    protocol.TextDocumentSyncKindFull,
				},
				HoverProvider:          true,
				CompletionProvider:     &protocol.CompletionOptions{TriggerCharacters: []string{"."}},
				DefinitionProvider:     true,
				DocumentSymbolProvider: true,
			},
			ServerInfo: &protocol.ServerInfo{Name: "nixl", Version: s.opts.Version},
		}, nil
	case "initialized":
		return nil, nil
	case "shutdown":
		s.shutdown = true
		return nil, nil
	case "exit":
		if !s.exited {
			s.exited = true
			close(s.exit)
		}
		return nil, nil
	case "textDocument/didOpen":
		p, err := decode[protocol.DidOpenTextDocumentParams](req)
		if err != nil {
			return nil, err
		}
		s.update(ctx, p.TextDocument.URI, p.TextDocument.Version, p.TextDocument.Text)
		return nil, nil
	case "textDocument/didChange":
		p, err := decode[protocol.DidChangeTextDocumentParams](req)
		if err != nil {
			return nil, err
		}
		if n := len(p.ContentChanges); n > 0 {
			// Full synchronisation: the last change is the whole text.
			s.update(ctx, p.TextDocument.URI, p.TextDocument.Version, p.ContentChanges[n-1].Text)
		}
		return nil, nil
	case "textDocument/didClose":
		p, err := decode[protocol.DidCloseTextDocumentParams](req)
		if err != nil {
			return nil, err
		}
		delete(s.docs, p.TextDocument.URI)
		s.publish(ctx, p.TextDocument.URI, 0, nil)
		return nil, nil
	case "textDocument/hover":
		p, err := decode[protocol.HoverParams](req)
		if err != nil {
			return nil, err
		}
		if d := s.docs[p.TextDocument.URI]; d != nil {
			if h := s.hover(d, p.Position); h != nil {
				return h, nil
			}
		}
		return nil, nil
	case "textDocument/completion":
		p, err := decode[protocol.CompletionParams](req)
		if err != nil {
			return nil, err
		}
		items := []protocol.CompletionItem{}
		if d := s.docs[p.TextDocument.URI]; d != nil {
			items = s.complete(d, p.Position)
		}
		return protocol.CompletionList{Items: items}, nil
	case "textDocument/definition":
		p, err := decode[protocol.DefinitionParams](req)
		if err != nil {
			return nil, err
		}
		locs := []protocol.Location{}
		if d := s.docs[p.TextDocument.URI]; d != nil {
			locs = s.definition(d, p.Position)
		}
		return locs, nil
	case "textDocument/documentSymbol":
		p, err := decode[protocol.DocumentSymbolParams](req)
		if err != nil {
			return nil, err
		}
		syms := []protocol.DocumentSymbol{}
		if d := s.docs[p.TextDocument.URI]; d != nil {
			syms = s.symbols(d, d.file.Symbols())
		}
		return syms, nil
	}
	return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not supported: %s", req.Method())
}

// update analyses a new version of a document and publishes its
// diagnostics.
func (s *server) update(ctx context.Context, u protocol.DocumentURI, version int32, text string) {
	d := newDocument(u, version, text, s.config())
	s.docs[u] = d
	diags := make([]protocol.Diagnostic, 0, len(d.file.Diagnostics))
	for _, x := range d.file.Diagnostics {
		sev := protocol.DiagnosticSeverityError
		if x.Severity == analysis.SeverityWarning {
			sev = protocol.DiagnosticSeverityWarning
		}
		diags = append(diags, protocol.Diagnostic{
			Range: d.rangeOf(x.Start, x.End), Severity: sev, Code: x.Code, Source: "nixl", Message: x.Message,
		})
	}
	s.publish(ctx, u, version, diags)
}

func (s *server) publish(ctx context.Context, u protocol.DocumentURI, version int32, diags []protocol.Diagnostic) {
	if diags == nil {
		diags = []protocol.Diagnostic{}
	}
	err := s.conn.Notify(ctx, "textDocument/publishDiagnostics", protocol.PublishDiagnosticsParams{
		URI: u, Version: uint32(max(version, 0)), Diagnostics: diags,
	})
	if err != nil {
		s.logf("publishing diagnostics: %v", err)
	}
}
