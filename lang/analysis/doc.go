// Package analysis is nixl's static analysis of Nix files, shared by
// `nixl check` and the language server (`nixl lsp`).
//
// # Design
//
// Check parses a file in tolerant mode (so that a broken file still gives
// a tree and every syntax error), resolves its variables against the
// global names in tolerant mode (every undefined variable is reported,
// not just the first), and then walks the resolved tree once to collect
// the definitions (let and rec bindings, attributes, function arguments
// and formals) and which of them are used. From that it reports:
//
//   - syntax-error: any error of the parser;
//   - duplicate-attribute, duplicate-formal: Nix's parse-time duplicate
//     checks, told apart from other syntax errors;
//   - undefined-variable: a variable bound nowhere and not under any
//     `with` (under a `with` the name may come from the set at run time,
//     so it is not an error);
//   - unused-binding (warning): a let binding nothing refers to;
//   - unused-formal (warning): a formal parameter ({ a, … }: …) the
//     function does not use;
//   - shadowed-builtin (warning): a let binding, rec attribute, function
//     argument or formal that hides a global builtin (map, toString, …),
//     except `inherit (builtins) map;`, which binds the same thing;
//   - eval-error: added by callers that also evaluate (nixl check --eval).
//
// Names starting with an underscore are exempt from the unused checks,
// the usual convention for a deliberately ignored argument. A binding
// used only inside its own value (a recursive function nothing calls) is
// unused. The unused checks are skipped in a file with syntax errors or
// duplicate attributes, whose tree is partial (the parser drops what it
// cannot place, and uses in it would be missed).
//
// The walk also records, for editors, every definition (Def) with its
// name and value, and File answers the questions a language server asks:
// the node under the cursor, where a variable is defined, which names are
// in scope at a position, the file's symbols. Focus rewrites a tree so
// that an expression can be evaluated in the scope of any position of
// it (the basis of hover values and attribute completion).
//
// Analysis needs no evaluator: it depends only on package lang, and the
// global names are given by the caller (builtins.Names()).
//
// # Diagnostics and the JSON format
//
// A Diagnostic has a file, a range, a severity, a code and a message.
// Lines and columns are 1-based; columns count bytes, as Nix's own
// messages do; the end is exclusive (the column just past the range). A
// diagnostic that points at a position rather than a span (most syntax
// errors) covers the token there, or is empty at the end of the file.
//
// `nixl check --json` prints a JSON array (empty: []) of objects:
//
//	{
//	  "file": "dir/broken.nix",
//	  "range": {"start": {"line": 3, "col": 7}, "end": {"line": 3, "col": 10}},
//	  "severity": "error",            // "error" or "warning"
//	  "code": "undefined-variable",   // one of the codes above
//	  "message": "undefined variable 'foo'"
//	}
//
// in the order of the files given, each file's sorted by position. "file"
// is the name the file was given by (as on the command line). The text
// form is one line per diagnostic, as compilers print them:
//
//	dir/broken.nix:3:7: error: undefined variable 'foo' [undefined-variable]
package analysis
