// Package lang is the front end of nixl: it turns Nix source text into an
// abstract syntax tree with exact positions, checks what Nix checks at
// parse time, and prints trees back in Nix's `--parse` form.
//
// # Design
//
// Positions are compact: a Pos is an offset into a FileSet, where each
// file owns a range (as in go/token); Position decodes one for humans.
// Every node records where it starts and ends, so editors get exact
// ranges, and NodePos gives the position Nix itself reports for a node.
//
// The lexer is hand-written. Nix's lexer is context-sensitive (strings,
// indented strings and interpolated paths are lexed in their own states,
// driven by a stack that `${`, `{` and `}` push and pop), and it decides
// between paths, URIs, numbers and identifiers by longest match; the Lexer
// reproduces those rules byte for byte and never fails (bad bytes become
// ILLEGAL tokens for the parser to report).
//
// The parser is a hand-written recursive-descent parser with precedence
// climbing for operators, each production with its grammar rule in the
// comment above the function; it is the fast path, built for the parse
// throughput target and for error recovery. The parser mirrors Nix's parse-time work: nested
// attribute paths are merged (a.b = 1; a.c = 2;), duplicate attributes and
// formals are errors, relative paths are made absolute, indented strings
// are stripped of their indentation. Syntax errors use Nix's wording
// ("syntax error, unexpected …, expecting …"). Nesting is bounded
// (Config.MaxDepth, 10,000 by default) in every way a tree can grow deep,
// brackets or not: parentheses, lists, sets, function bodies, the links
// of a left-associative chain (1 + 1 + …) and attribute paths
// ({ a.b.c… = v; } nests v), so that neither the parser nor what walks
// the tree afterwards can overflow the stack; deeper input is the syntax
// error "expression nested too deeply". Runs of path and URI characters
// (a.b.c.d…) are scanned once, keeping lexing linear.
//
// Resolve binds variables to their definitions (scope depth and slot), the
// way Nix does before evaluation, and reports undefined variables; the
// evaluator relies on its results, and editors use them for
// go-to-definition.
//
// In tolerant mode (Config.Tolerant) the parser goes on after errors and
// returns a partial tree plus every error, for editors.
package lang
