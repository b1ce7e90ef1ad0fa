package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// badCase is one row of TestBadInput: a nixl command line given bad
// input, and what it must answer.
type badCase struct {
	name string
	// args follow "nixl". Placeholders: {dir} (the fixtures), {S}
	// (--store-dir STORE --state-dir STATE of a store holding a few
	// paths), {U} (a store the command's user owns), {RO} (a store the
	// command's user cannot write), {store}, {nope} (a store path that is
	// not valid), {corrupt} (a valid .drv whose file was overwritten),
	// {valid} (a valid path), {validdir} (a valid directory).
	args  []string
	stdin string
	// ok expects exit code 0 (a row showing that sane input still
	// works); otherwise the exit code must be 1.
	ok bool
	// stderr and stdout are regular expressions the outputs must match.
	stderr, stdout string
	// errors is the number of lines starting with "error:" on stderr
	// (default 1: one clear message); -1 skips the count.
	errors int
	// user marks rows whose fixture is a file permission (chmod 000, a
	// read-only store): run as an unprivileged user when the test runs as
	// root, for whom permissions do not bite.
	user bool
	// absent are paths (placeholders allowed) that must not exist after.
	absent []string
	// nix is the same input given to C++ Nix (placeholders allowed), whose
	// stderr must match nixStderr and whose exit code must be 1 too: the
	// messages are compared where Nix has one.
	nix       []string
	nixStderr string
}

// badInputCases covers every command with the bad inputs that apply to
// it. Messages follow Nix's where Nix has one for the same input.
var badInputCases = []badCase{
	// eval: the evaluator's file errors, with positions and snippets.
	{name: "eval/missing", args: []string{"eval", "{dir}/missing.nix"}, stderr: `^error: path '/.*/missing\.nix' does not exist\n$`,
		nix: []string{"nix-instantiate", "--eval", "{dir}/missing.nix"}, nixStderr: `^error: getting status of '/.*/missing\.nix': No such file or directory\n$`},
	{name: "eval/directory", args: []string{"eval", "{dir}/emptydir"}, stderr: `^error: path '/.*/emptydir/default\.nix' does not exist\n$`,
		nix: []string{"nix-instantiate", "--eval", "{dir}/emptydir"}, nixStderr: `^error: opening file '/.*/emptydir/default\.nix': No such file or directory\n$`},
	{name: "eval/garbage", args: []string{"eval", "{dir}/garbage.bin"},
		stderr: `^error: syntax error, unexpected invalid token\n\s+at /.*/garbage\.bin:1:1:\n\s+1\| \x00\?\[2J\?\]0;pwned\?`},
	{name: "eval/invalid-utf8", args: []string{"eval", "{dir}/badutf8.nix"},
		stderr: `^error: syntax error, unexpected invalid token, expecting end of file\n\s+at /.*/badutf8\.nix:1:18:\n\s+1\| let x = 1; in caf. \+ x\n\s+\|\s{18}\^`,
		nix:    []string{"nix-instantiate", "--eval", "{dir}/badutf8.nix"}, nixStderr: `^error: syntax error, unexpected invalid token, expecting end of file\n\n\s+at /.*/badutf8\.nix:1:18:`},
	{name: "eval/escape-in-file-name", args: []string{"eval", "{dir}/\x1b]0;title\x07.nix"},
		stderr: `^error: path '/.*/\?\]0;title\?\.nix' does not exist\n$`},
	{name: "eval/bytes-in-string-are-fine", args: []string{"eval", "{dir}/bytes.nix"}, ok: true, stdout: `^"caf`,
		nix: []string{"nix-instantiate", "--eval", "{dir}/bytes.nix"}, nixStderr: `^$`},
	{name: "eval/empty", args: []string{"eval", "{dir}/empty.nix"}, stderr: `^error: syntax error, unexpected end of file\n\s+at /.*/empty\.nix:1:1:`,
		nix: []string{"nix-instantiate", "--eval", "{dir}/empty.nix"}, nixStderr: `^error: syntax error, unexpected end of file\n\n\s+at /.*/empty\.nix:1:1:`},
	{name: "eval/unreadable", args: []string{"eval", "{dir}/unreadable.nix"}, user: true,
		stderr: `^error: cannot read '/.*/unreadable\.nix': permission denied\n$`},
	{name: "eval/attr-missing", args: []string{"eval", "-A", "nope", "{dir}/set.nix"},
		stderr: `^error: attribute 'nope' in selection path 'nope' not found\n`,
		nix:    []string{"nix-instantiate", "--eval", "-A", "nope", "{dir}/set.nix"}, nixStderr: `^error: attribute 'nope' in selection path 'nope' not found\n`},
	{name: "eval/attr-missing-nested", args: []string{"eval", "-A", "b.nope", "{dir}/set.nix"},
		stderr: `^error: attribute 'nope' in selection path 'b\.nope' not found\n$`},
	{name: "eval/attr-of-int", args: []string{"eval", "-A", "a.x", "{dir}/set.nix"},
		stderr: `^error: the expression selected by the selection path 'a\.x' should be a set but is an integer: 1\n$`,
		nix:    []string{"nix-instantiate", "--eval", "-A", "a.x", "{dir}/set.nix"}, nixStderr: `^error: the expression selected by the selection path 'a\.x' should be a set but is an integer\n`},
	{name: "eval/syntax-position", args: []string{"eval", "{dir}/syntax.nix"},
		stderr: `^error: syntax error, unexpected ';'\n\s+at /.*/syntax\.nix:2:7:\n\s+1\| \{ a = 1;\n\s+2\|   b = ; \}\n\s+\|       \^`,
		nix:    []string{"nix-instantiate", "--eval", "{dir}/syntax.nix"}, nixStderr: `^error: syntax error, unexpected ';'\n\n\s+at /.*/syntax\.nix:2:7:`},
	{name: "eval/pure-absolute", args: []string{"eval", "--pure-eval", "-E", "builtins.readFile /etc/passwd"},
		stderr: `(?s)at «string»:1:1:.*error: access to absolute path '/etc/passwd' is forbidden in pure eval mode \(use '--impure' to override\)\n$`,
		nix:    []string{"nix-instantiate", "--eval", "--option", "pure-eval", "true", "-E", "builtins.readFile /etc/passwd"}, nixStderr: `^error: access to absolute path '/etc/passwd' is forbidden in pure eval mode \(use '--impure' to override\)\n`},
	{name: "eval/pure-dotdot", args: []string{"eval", "--pure-eval", "{dir}/proj/escape.nix"},
		stderr: `(?s)at /.*/proj/escape\.nix:1:1:.*error: access to absolute path '/.*/outside/secret' is forbidden in pure eval mode`},
	{name: "eval/pure-symlink", args: []string{"eval", "--pure-eval", "{dir}/proj/link.nix"},
		stderr: `(?s)error: access to canonical path '/.*/outside/secret' \(from '/.*/proj/out/secret'\) is forbidden in pure eval mode`},
	{name: "eval/pure-path-builtin", args: []string{"eval", "--pure-eval", "-E", `builtins.path { path = /etc; name = "etc"; }`},
		stderr: `(?s)while adding path '/etc'.*error: access to absolute path '/etc' is forbidden in pure eval mode`},
	{name: "eval/pure-interpolation", args: []string{"eval", "--pure-eval", "-E", `"${/etc/hostname}"`},
		stderr: `^error: access to absolute path '/etc/hostname' is forbidden in pure eval mode \(use '--impure' to override\)\n\s+at «string»:1:2:`,
		nix:    []string{`nix-instantiate`, `--eval`, `--option`, `pure-eval`, `true`, `-E`, `"${/etc/hostname}"`}, nixStderr: `^error: access to absolute path '/etc/hostname' is forbidden in pure eval mode \(use '--impure' to override\)\n`},
	{name: "eval/pure-inside-is-fine", args: []string{"eval", "--pure-eval", "--strict", "{dir}/proj/inside.nix"}, ok: true,
		stdout: `^\{ exists = false; text = "inside\\n"; \}\n$`},
	{name: "eval/pure-search-path", args: []string{"eval", "--pure-eval", "-I", "p={dir}/proj", "-E", "builtins.readFile <p/data.txt>"}, ok: true, stdout: `^"inside\\n"\n$`},

	// instantiate: what eval does, plus the store.
	{name: "instantiate/missing", args: []string{"instantiate", "{S}", "{dir}/missing.nix"},
		stderr: `^error: path '/.*/missing\.nix' does not exist\n$`},
	{name: "instantiate/garbage", args: []string{"instantiate", "{S}", "{dir}/garbage.bin"},
		stderr: `^error: syntax error, unexpected invalid token\n\s+at /.*/garbage\.bin:1:1:`},
	{name: "instantiate/not-a-derivation", args: []string{"instantiate", "{S}", "{dir}/notdrv.nix"},
		stderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`,
		nix:    []string{"nix-instantiate", "--readonly-mode", "{dir}/notdrv.nix"}, nixStderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`},
	{name: "instantiate/list-of-int", args: []string{"instantiate", "{S}", "-E", "[ 1 ]"},
		stderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`,
		nix:    []string{"nix-instantiate", "--readonly-mode", "-E", "[ 1 ]"}, nixStderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`},
	{name: "instantiate/attr-missing", args: []string{"instantiate", "{S}", "-A", "nope", "{dir}/set.nix"},
		stderr: `^error: attribute 'nope' in selection path 'nope' not found\n`},
	{name: "instantiate/unreadable", args: []string{"instantiate", "{U}", "{dir}/unreadable.nix"}, user: true,
		stderr: `^error: cannot read '/.*/unreadable\.nix': permission denied\n$`},
	{name: "instantiate/name-dotdot", args: []string{"instantiate", "{S}", "-E", `derivation { name = "../x"; system = "x"; builder = "/bin/sh"; }`},
		stderr: `(?s)error: invalid derivation name: name '\.\./x' contains illegal character '/'`,
		nix:    []string{`nix-instantiate`, `--readonly-mode`, `-E`, `derivation { name = "../x"; system = "x"; builder = "/bin/sh"; }`}, nixStderr: `error: store path '\w+-\.\./x' contains illegal character '/'`},
	{name: "instantiate/output-dotdot", args: []string{"instantiate", "{S}", "-E", `derivation { name = "x"; outputs = [ "../o" ]; system = "x"; builder = "/bin/sh"; }`},
		stderr: `(?s)error: store path 'x-\.\./o' contains illegal character '/'`,
		nix:    []string{`nix-instantiate`, `--readonly-mode`, `-E`, `derivation { name = "x"; outputs = [ "../o" ]; system = "x"; builder = "/bin/sh"; }`}, nixStderr: `error: store path '\w+-x-\.\./o' contains illegal character '/'`},
	{name: "instantiate/toFile-dotdot", args: []string{"instantiate", "{S}", "-E", `builtins.toFile "../x" ""`},
		stderr: `(?s)error: store path '\.\./x' has a name starting with '\.'`,
		nix:    []string{`nix-instantiate`, `--readonly-mode`, `-E`, `builtins.toFile "../x" ""`}, nixStderr: `error: store path '\w+-\.\./x' contains illegal character '/'`},
	{name: "instantiate/path-odd-name", args: []string{"instantiate", "{S}", "-E", `builtins.path { path = ./set.nix; name = "a b"; }`},
		stderr: `(?s)error: store path 'a b' contains illegal character ' '`},
	{name: "instantiate/unwritable-store", args: []string{"instantiate", "{RO}", "{dir}/drv.nix"}, user: true,
		stderr: `(?s)error: cannot write to the store '/.*/rostore': permission denied\n$`},

	// parse: like nix-instantiate --parse.
	{name: "parse/missing", args: []string{"parse", "{dir}/missing.nix"}, stderr: `^error: path '/.*/missing\.nix' does not exist\n$`},
	{name: "parse/directory", args: []string{"parse", "{dir}/emptydir"}, stderr: `^error: path '/.*/emptydir/default\.nix' does not exist\n$`,
		nix: []string{"nix-instantiate", "--parse", "{dir}/emptydir"}, nixStderr: `^error: opening file '/.*/emptydir/default\.nix': No such file or directory\n$`},
	{name: "parse/garbage", args: []string{"parse", "{dir}/garbage.bin"},
		stderr: `^error: syntax error, unexpected invalid token\n\s+at /.*/garbage\.bin:1:1:`},
	{name: "parse/invalid-utf8", args: []string{"parse", "{dir}/badutf8.nix"}, stderr: `at /.*/badutf8\.nix:1:18:`},
	{name: "parse/empty", args: []string{"parse", "{dir}/empty.nix"}, stderr: `^error: syntax error, unexpected end of file\n\s+at /.*/empty\.nix:1:1:`,
		nix: []string{"nix-instantiate", "--parse", "{dir}/empty.nix"}, nixStderr: `^error: syntax error, unexpected end of file\n\n\s+at /.*/empty\.nix:1:1:`},
	{name: "parse/unreadable", args: []string{"parse", "{dir}/unreadable.nix"}, user: true,
		stderr: `^error: cannot read '/.*/unreadable\.nix': permission denied\n$`},

	// check: diagnostics on standard output, file errors on stderr.
	{name: "check/missing", args: []string{"check", "missing.nix"}, stderr: `^error: path 'missing\.nix' does not exist\n$`},
	{name: "check/directory", args: []string{"check", "emptydir"}, stderr: `^error: cannot read 'emptydir': is a directory\n$`},
	{name: "check/garbage", args: []string{"check", "garbage.bin"}, errors: -1, stdout: `^garbage\.bin:1:1: error: syntax error, unexpected invalid token`},
	{name: "check/empty", args: []string{"check", "empty.nix"}, errors: -1, stdout: `^empty\.nix:1:1: error: syntax error, unexpected end of file \[syntax-error\]\n$`},
	{name: "check/unreadable", args: []string{"check", "unreadable.nix"}, user: true,
		stderr: `^error: cannot read 'unreadable\.nix': permission denied\n$`},

	// build: evaluation errors, non-derivations, bad .drv files, bad stores.
	{name: "build/missing", args: []string{"build", "{S}", "{dir}/missing.nix"}, stderr: `^error: path '/.*/missing\.nix' does not exist\n$`},
	{name: "build/directory", args: []string{"build", "{S}", "{dir}/emptydir"}, stderr: `^error: path '/.*/emptydir/default\.nix' does not exist\n$`},
	{name: "build/garbage", args: []string{"build", "{S}", "{dir}/garbage.bin"},
		stderr: `^error: syntax error, unexpected invalid token\n\s+at /.*/garbage\.bin:1:1:`},
	{name: "build/empty", args: []string{"build", "{S}", "{dir}/empty.nix"},
		stderr: `^error: syntax error, unexpected end of file\n\s+at /.*/empty\.nix:1:1:`},
	{name: "build/unreadable", args: []string{"build", "{U}", "{dir}/unreadable.nix"}, user: true,
		stderr: `^error: cannot read '/.*/unreadable\.nix': permission denied\n$`},
	{name: "build/not-a-derivation", args: []string{"build", "{S}", "{dir}/notdrv.nix"},
		stderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`},
	{name: "build/int", args: []string{"build", "{S}", "-E", "42"},
		stderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`,
		nix:    []string{"nix-build", "--no-out-link", "-E", "42"}, nixStderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`},
	{name: "build/attr-not-derivation", args: []string{"build", "{S}", "-A", "a", "{dir}/set.nix"},
		stderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`,
		nix:    []string{"nix-build", "--no-out-link", "-A", "a", "{dir}/set.nix"}, nixStderr: `^error: expression does not evaluate to a derivation \(or a set or list of those\)\n$`},
	{name: "build/attr-missing", args: []string{"build", "{S}", "-A", "nope", "{dir}/set.nix"},
		stderr: `^error: attribute 'nope' in selection path 'nope' not found\n`},
	{name: "build/corrupt-drv", args: []string{"build", "{S}", "{corrupt}"},
		stderr: `^error: reading derivation '/.*-corrupt\.drv': invalid derivation at byte \d+: .*\n$`},
	{name: "build/corrupt-drv-of-expression", args: []string{"build", "{S}", "--no-link", "{dir}/corrupt.nix"},
		stderr: `^error: /.*-corrupt\.drv: invalid derivation at byte \d+: .*\n$`},
	{name: "build/drv-not-in-store", args: []string{"build", "{S}", "{nope}.drv"}, stderr: `^error: path '/.*-nope\.drv' is not valid\n$`},
	{name: "build/unwritable-store", args: []string{"build", "{RO}", "--no-link", "{dir}/drv.nix"}, user: true,
		stderr: `(?s)error: cannot write to the store '/.*/rostore': permission denied\n$`},

	// store subcommands.
	{name: "store-add/missing", args: []string{"store", "add", "{S}", "missing"}, stderr: `^error: cannot add 'missing': no such file or directory\n$`},
	{name: "store-add/escape-in-file-name", args: []string{"store", "add", "{S}", "\x1b[2J"},
		stderr: `^error: cannot add '\?\[2J': no such file or directory\n$`},
	{name: "store-add/unreadable", args: []string{"store", "add", "{U}", "unreadable.nix"}, user: true,
		stderr: `^error: cannot add 'unreadable\.nix': .*permission denied\n$`},
	{name: "store-add/unreadable-in-directory", args: []string{"store", "add", "{U}", "lockeddir"}, user: true,
		stderr: `^error: cannot add 'lockeddir': .*permission denied\n$`},
	{name: "store-add/name-dotdot", args: []string{"store", "add", "{S}", "--name", "../x", "set.nix"},
		stderr: `^error: cannot add 'set\.nix': store path '\.\./x' has a name starting with '\.'\n$`},
	{name: "store-add/name-slash", args: []string{"store", "add", "{S}", "--name", "a/b", "set.nix"},
		stderr: `^error: cannot add 'set\.nix': store path 'a/b' contains illegal character '/'\n$`},
	{name: "store-add/name-odd", args: []string{"store", "add", "{S}", "--name", "x$(id)", "set.nix"},
		stderr: `^error: cannot add 'set\.nix': store path 'x\$\(id\)' contains illegal character '\$'\n$`},
	{name: "store-add/fifo", args: []string{"store", "add", "{S}", "fifo"},
		stderr: `^error: cannot add 'fifo': file '/.*/fifo' has an unsupported type \(p---------\)\n$`},
	{name: "store-add/flat-directory", args: []string{"store", "add", "{S}", "--flat", "emptydir"},
		stderr: `^error: cannot add 'emptydir': cannot add '/.*/emptydir' to the store flat: it is not a regular file\n$`},
	{name: "store-add/unwritable-store", args: []string{"store", "add", "{RO}", "set.nix"}, user: true,
		stderr: `^error: cannot add 'set\.nix': cannot write to the store '/.*/rostore': permission denied\n$`},
	{name: "store-cat/not-valid", args: []string{"store", "cat", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-cat/outside", args: []string{"store", "cat", "{S}", "garbage.bin"},
		stderr: `^error: path '/.*/garbage\.bin' is not in the store '/.*'\n$`},
	{name: "store-cat/directory", args: []string{"store", "cat", "{S}", "{validdir}"}, stderr: `^error: path '/.*-srcdir' is not a regular file\n$`},
	{name: "store-dump/missing", args: []string{"store", "dump", "{S}", "missing"},
		stderr: `^error: cannot dump 'missing': no such file or directory\n$`},
	{name: "store-dump/fifo", args: []string{"store", "dump", "{S}", "fifo"}, stderr: `^error: file 'fifo' has an unsupported type \(p---------\)\n$`},
	{name: "store-ls/not-valid", args: []string{"store", "ls", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-path-info/not-valid", args: []string{"store", "path-info", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-path-info/bad-name", args: []string{"store", "path-info", "{S}", "{store}/short-x"},
		stderr: `^error: path '/.*/short-x' is in the store but is not a store path: 'short-x' is too short to be a valid store path\n$`},
	{name: "store-path-info/dotdot", args: []string{"store", "path-info", "{S}", "{store}/00000000000000000000000000000000-../../etc/passwd"},
		stderr: `^error: path '/.*' is (not in the store|in the store but is not a store path).*\n$`},
	{name: "store-refs/not-valid", args: []string{"store", "refs", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-referrers/not-valid", args: []string{"store", "referrers", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-verify/argument", args: []string{"store", "verify", "{S}", "extra"}, stderr: `^error: unexpected argument 'extra'\n$`},
	{name: "store-verify/corrupt", args: []string{"store", "verify", "{S}", "--check-contents"},
		stderr: `path '/.*-corrupt\.drv' was modified! expected hash 'sha256:\w+', got 'sha256:\w+'\nerror: 1 problems found in the store\n$`},
	{name: "store-export/not-valid", args: []string{"store", "export", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-import/garbage", args: []string{"store", "import", "{S}"}, stdin: "\x00\x01garbage\xff",
		stderr: `^error: importing path #1: .*; nothing was imported\n$`},
	{name: "store-import/empty", args: []string{"store", "import", "{S}"},
		stderr: `^error: importing path #1: unexpected end of the stream; nothing was imported\n$`},
	{name: "store-restore/garbage", args: []string{"store", "restore", "{S}", "{dir}/restored"}, stdin: "\x1b[2Jnot a NAR at all, just text long enough",
		stderr: `^error: malformed NAR at byte 0: .*\n$`, absent: []string{"{dir}/restored"}},
	{name: "store-restore/truncated", args: []string{"store", "restore", "{S}", "{dir}/restored"}, stdin: "\x0d\x00\x00\x00\x00\x00\x00\x00nix-archive-1\x00\x00\x00",
		stderr: `^error: .*unexpected end.*\n$`, absent: []string{"{dir}/restored"}},
	{name: "store-restore/exists", args: []string{"store", "restore", "{S}", "{dir}/set.nix"},
		stderr: `^error: cannot restore to '/.*/set\.nix': it already exists\n$`},
	{name: "store-delete/not-valid", args: []string{"store", "delete", "{S}", "{nope}"}, stderr: `^error: path '/.*-nope' is not valid\n$`},
	{name: "store-delete/outside", args: []string{"store", "delete", "{S}", "{store}/../outside"},
		stderr: `^error: path '/.*/outside' is not in the store '/.*'\n$`},

	// copy.
	{name: "copy/not-valid", args: []string{"copy", "{S}", "--to", "file://{dir}/cache", "{nope}"},
		stderr: `^error: path '/.*-nope' is not valid\n$`, absent: []string{"{dir}/cache"}},
	{name: "copy/cache-is-a-file", args: []string{"copy", "{S}", "--to", "file://{dir}/garbage.bin", "{valid}"},
		stderr: `^error: cannot use 'file:///.*/garbage\.bin' as a binary cache: not a directory\n$`},
	{name: "copy/not-a-cache", args: []string{"copy", "{S}", "--from", "file://{dir}/emptydir", "00000000000000000000000000000000-nope"},
		stderr: `^error: path '/.*-nope' is not available from any substituter: 'file:///.*/emptydir' does not appear to be a binary cache: it has no nix-cache-info\n$`},
	{name: "copy/no-direction", args: []string{"copy", "{S}", "{valid}"}, stderr: `^error: give exactly one of --to and --from\n$`},

	// log.
	{name: "log/not-valid", args: []string{"log", "{S}", "{nope}"}, stderr: `^error: build log of '/.*-nope' is not available\n$`},
	{name: "log/outside", args: []string{"log", "{S}", "missing"}, stderr: `^error: path '/.*/missing' is not in the store '/.*'\n$`},
	{name: "log/never-built", args: []string{"log", "{S}", "{corrupt}"}, stderr: `^error: build log of '/.*-corrupt\.drv' is not available\n$`},

	// image.
	{name: "image-inspect/missing", args: []string{"image", "inspect", "missing"},
		stderr: `^error: 'missing' is not an OCI image layout: .*no such file or directory\n$`},
	{name: "image-inspect/directory", args: []string{"image", "inspect", "emptydir"},
		stderr: `^error: 'emptydir' is not an OCI image layout: .*no such file or directory\n$`},
	{name: "image-inspect/garbage", args: []string{"image", "inspect", "garbage.bin"},
		stderr: `^error: 'garbage\.bin' is not an OCI image layout: .*not a directory\n$`},
	{name: "image-export/missing", args: []string{"image", "export", "missing", "-o", "{dir}/out.tar"},
		stderr: `^error: 'missing' is not an OCI image layout: .*\n$`, absent: []string{"{dir}/out.tar"}},
	{name: "image-export/no-directory", args: []string{"image", "export", "garbage.bin", "-o", "{dir}/nodir/out.tar"},
		stderr: `^error: cannot write '/.*/nodir/out\.tar': no such file or directory\n$`},

	// doc.
	{name: "doc/unknown", args: []string{"doc", "noSuchFunctionAnywhere"},
		stderr: `^error: nothing in the standard library is called 'noSuchFunctionAnywhere' \(nixl doc lists the modules\)\n$`},

	// repl with a file: it must load, as with nix repl.
	{name: "repl/missing", args: []string{"repl", "missing.nix"}, stderr: `^error: path '/.*/missing\.nix' does not exist\n$`,
		nix: []string{"nix", "--extra-experimental-features", "nix-command", "repl", "missing.nix"}, nixStderr: `error: getting status of '/.*/missing\.nix': No such file or directory\n$`},
	{name: "repl/directory", args: []string{"repl", "emptydir"}, stderr: `^error: path '/.*/emptydir/default\.nix' does not exist\n$`},
	{name: "repl/garbage", args: []string{"repl", "garbage.bin"},
		stderr: `^error: syntax error, unexpected invalid token\n\s+at /.*/garbage\.bin:1:1:`},
	{name: "repl/empty", args: []string{"repl", "empty.nix"}, stderr: `^error: syntax error, unexpected end of file\n\s+at /.*/empty\.nix:1:1:`,
		nix: []string{"nix", "--extra-experimental-features", "nix-command", "repl", "empty.nix"}, nixStderr: `error: syntax error, unexpected end of file\n\n\s+at /.*/empty\.nix:1:1:`},
	{name: "repl/not-a-set", args: []string{"repl", "notdrv.nix"},
		stderr: `(?s)^error:\n.*error: expected a set but found a string: "just a string"\n$`},
	{name: "repl/unreadable", args: []string{"repl", "unreadable.nix"}, user: true,
		stderr: `^error: cannot read '/.*/unreadable\.nix': permission denied\n$`},
}

// badInputFixtures are the files and stores the rows use.
type badInputFixtures struct {
	dir                  string
	store, state         string // {S}
	ustore, ustate       string // {U}
	rostore, rostate     string // {RO}
	nope, corrupt, valid string
	validDir             string
	bin                  string // the binary to run (as another user when root)
	asUser               bool   // user rows run as uid/gid 65534
}

const unprivilegedID = 65534

func newBadInputFixtures(t *testing.T) *badInputFixtures {
	t.Helper()
	base := t.TempDir()
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+rwX", base).Run() })
	// Let an unprivileged user reach the fixtures (t.TempDir's
	// directories are private).
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	fx := &badInputFixtures{dir: filepath.Join(base, "in")}
	d := fx.dir
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(d, name)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte(data), mode))
		must(os.Chmod(p, mode))
	}
	must(os.MkdirAll(filepath.Join(d, "emptydir"), 0o755))
	write("empty.nix", "", 0o644)
	// Binary garbage that starts with a terminal escape sequence and a
	// NUL: the snippet must not pass either to the terminal.
	garbage := []byte("\x00\x1b[2J\x1b]0;pwned\x07")
	r := rand.New(rand.NewSource(12))
	for i := 0; i < 512; i++ {
		garbage = append(garbage, byte(r.Intn(256)))
	}
	write("garbage.bin", string(garbage), 0o644)
	write("badutf8.nix", "let x = 1; in caf\xe9 + x\n", 0o644)
	write("bytes.nix", "\"caf\xe9 \xff\"\n", 0o644)
	write("set.nix", "{ a = 1; b = { c = 2; }; }\n", 0o644)
	write("syntax.nix", "{ a = 1;\n  b = ; }\n", 0o644)
	write("notdrv.nix", "\"just a string\"\n", 0o644)
	write("unreadable.nix", "1\n", 0o000)
	write("lockeddir/secret", "x\n", 0o644)
	must(os.Chmod(filepath.Join(d, "lockeddir"), 0o000))
	write("drv.nix", `derivation { name = "ok"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; }`, 0o644)
	write("corrupt.nix", `derivation { name = "corrupt"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; }`, 0o644)
	write("outside/secret", "secret\n", 0o644)
	write("proj/data.txt", "inside\n", 0o644)
	write("proj/escape.nix", "builtins.readFile ../outside/secret\n", 0o644)
	write("proj/link.nix", "builtins.readFile ./out/secret\n", 0o644)
	write("proj/inside.nix", "{ text = builtins.readFile ./data.txt; exists = builtins.pathExists ../outside/secret; }\n", 0o644)
	must(os.Symlink("../outside", filepath.Join(d, "proj/out")))
	write("srcdir/file", "in a directory\n", 0o644)
	must(syscall.Mkfifo(filepath.Join(d, "fifo"), 0o644))

	stores := filepath.Join(base, "stores")
	fx.store, fx.state = filepath.Join(stores, "store"), filepath.Join(stores, "var")
	fx.ustore, fx.ustate = filepath.Join(stores, "ustore"), filepath.Join(stores, "uvar")
	fx.rostore, fx.rostate = filepath.Join(stores, "rostore"), filepath.Join(stores, "rovar")
	fx.bin = testBinary(t)

	// The main store: a source, a directory, a .drv that is then
	// overwritten (a corrupt derivation).
	sOpts := []string{"--store-dir", fx.store, "--state-dir", fx.state}
	fx.valid = strings.TrimSpace(fx.mustRun(t, append([]string{"store", "add"}, append(sOpts, filepath.Join(d, "set.nix"))...)...))
	fx.validDir = strings.TrimSpace(fx.mustRun(t, append([]string{"store", "add"}, append(sOpts, filepath.Join(d, "srcdir"))...)...))
	fx.corrupt = strings.TrimSpace(fx.mustRun(t, append([]string{"instantiate"}, append(sOpts, filepath.Join(d, "corrupt.nix"))...)...))
	must(os.Chmod(fx.corrupt, 0o644))
	must(os.WriteFile(fx.corrupt, []byte(`Derive([("out","`), 0o644))
	must(os.Chmod(fx.corrupt, 0o444))
	fx.nope = filepath.Join(fx.store, "00000000000000000000000000000000-nope")
	// A store for the rows that run as another user, and one that user
	// cannot write (its state directory is writable: the store is not).
	for _, s := range [][2]string{{fx.ustore, fx.ustate}, {fx.rostore, fx.rostate}} {
		fx.mustRun(t, "store", "verify", "--store-dir", s[0], "--state-dir", s[1])
	}
	fx.asUser = os.Getuid() == 0
	if fx.asUser {
		for _, p := range []string{fx.ustore, fx.ustate, fx.rostate} {
			must(exec.Command("chown", "-R", fmt.Sprintf("%d:%d", unprivilegedID, unprivilegedID), p).Run())
		}
	} else {
		must(os.Chmod(fx.rostore, 0o555))
		must(os.Chmod(filepath.Join(fx.rostore, ".nixl-tmp"), 0o555))
	}
	return fx
}

// testBinary returns the test binary (which serves as nixl with
// NIXL_TEST_AS_CLI=1), copied where an unprivileged user can run it
// when the test runs as root.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		return exe
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(t.TempDir())), "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nixl")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// run runs nixl with args in the fixture directory, with a private home.
func (fx *badInputFixtures) run(t *testing.T, asUser bool, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fx.bin, args...)
	cmd.Dir = fx.dir
	home := filepath.Join(filepath.Dir(fx.dir), "home")
	os.MkdirAll(home, 0o777)
	os.Chmod(home, 0o777)
	cmd.Env = []string{"NIXL_TEST_AS_CLI=1", "PATH=/usr/bin:/bin", "HOME=" + home, "XDG_DATA_HOME=" + home + "/data",
		"XDG_STATE_HOME=" + home + "/state", "XDG_CONFIG_HOME=" + home + "/config", "NIXL_CONF_FILE=/dev/null", "LANG=C"}
	if asUser && fx.asUser {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: unprivilegedID, Gid: unprivilegedID}}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("nixl %q timed out", args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nixl %q: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

func (fx *badInputFixtures) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := fx.run(t, false, "", args...)
	if code != 0 {
		t.Fatalf("nixl %q: exit %d: %s", args, code, errOut)
	}
	return out
}

// expand replaces the placeholders of a row's argument.
func (fx *badInputFixtures) expand(args []string) []string {
	r := strings.NewReplacer("{dir}", fx.dir, "{store}", fx.store, "{nope}", fx.nope, "{corrupt}", fx.corrupt,
		"{valid}", fx.valid, "{validdir}", fx.validDir)
	var out []string
	for _, a := range args {
		switch a {
		case "{S}":
			out = append(out, "--store-dir", fx.store, "--state-dir", fx.state)
		case "{U}":
			out = append(out, "--store-dir", fx.ustore, "--state-dir", fx.ustate)
		case "{RO}":
			out = append(out, "--store-dir", fx.rostore, "--state-dir", fx.rostate)
		default:
			out = append(out, r.Replace(a))
		}
	}
	return out
}

// storeSnapshot lists what a failed command must leave unchanged: the
// entries of each store directory and of its temporary directory, and
// the lock files of its state directory.
func (fx *badInputFixtures) storeSnapshot() []string {
	var out []string
	for _, s := range [][2]string{{fx.store, fx.state}, {fx.ustore, fx.ustate}, {fx.rostore, fx.rostate}} {
		for _, d := range []string{s[0], filepath.Join(s[0], ".nixl-tmp"), filepath.Join(s[1], "locks")} {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return out
}

var (
	errorLine       = regexp.MustCompile(`(?m)^error:`)
	terminalControl = regexp.MustCompile(`[\x01-\x08\x0b-\x1f\x7f\x{80}-\x{9f}]`)
)

// TestBadInput runs every command on bad input: each must fail with exit
// code 1 and one clear message (with the position and a printable source
// snippet where there is a source), never a Go panic, and leave nothing
// behind in the store.
func TestBadInput(t *testing.T) {
	fx := newBadInputFixtures(t)
	// As root, permissions only bite for another user; that needs
	// the fixtures and the binary to be reachable by that user.
	userProblem := ""
	if fx.asUser {
		if code, _, errOut := fx.run(t, true, "", "eval", "-E", "1"); code != 0 {
			userProblem = fmt.Sprintf("cannot run nixl as uid %d: %s", unprivilegedID, errOut)
		}
	}
	seen := map[string]bool{}
	for _, tc := range badInputCases {
		if seen[tc.name] {
			t.Fatalf("duplicate row %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			if tc.user && userProblem != "" {
				t.Skipf("SKIPPED (not counted as a pass): the test runs as root, for whom file permissions do not apply, and %s", userProblem)
			}
			before := fx.storeSnapshot()
			args := fx.expand(tc.args)
			code, stdout, stderr := fx.run(t, tc.user, tc.stdin, args...)
			all := stdout + stderr
			for _, bad := range []string{"panic:", "goroutine ", "internal error", "runtime error"} {
				if strings.Contains(all, bad) {
					t.Fatalf("nixl %q printed %q:\n%s", args, bad, all)
				}
			}
			want := 1
			if tc.ok {
				want = 0
			}
			if code != want {
				t.Errorf("nixl %q: exit code %d, want %d\nstdout: %s\nstderr: %s", args, code, want, stdout, stderr)
			}
			if tc.stderr != "" && !regexp.MustCompile(tc.stderr).MatchString(stderr) {
				t.Errorf("nixl %q: stderr does not match %s:\n%s", args, tc.stderr, stderr)
			}
			if tc.stdout != "" && !regexp.MustCompile(tc.stdout).MatchString(stdout) {
				t.Errorf("nixl %q: stdout does not match %s:\n%s", args, tc.stdout, stdout)
			}
			nErrors := tc.errors
			if nErrors == 0 && !tc.ok {
				nErrors = 1
			}
			if n := len(errorLine.FindAllString(stderr, -1)); nErrors >= 0 && n != nErrors {
				t.Errorf("nixl %q: %d lines start with 'error:', want %d:\n%s", args, n, nErrors, stderr)
			}
			// Nothing a terminal would act on (escape sequences from a
			// binary file's snippet); NUL and bytes that are not UTF-8 are
			// shown as they are, as Nix does.
			if loc := terminalControl.FindStringIndex(stderr); loc != nil {
				t.Errorf("nixl %q: stderr holds the control character %q at byte %d:\n%q", args, stderr[loc[0]:loc[1]], loc[0], stderr)
			}
			if after := fx.storeSnapshot(); !slices.Equal(before, after) {
				t.Errorf("nixl %q changed the store:\nbefore %q\nafter  %q", args, before, after)
			}
			if tc.nix != nil {
				compareWithNix(t, fx, tc, want)
			}
			for _, p := range tc.absent {
				p = fx.expand([]string{p})[0]
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("nixl %q left %s behind", args, p)
				}
			}
		})
	}
}

var (
	nixRunsOnce sync.Once
	nixProblem  string
)

// compareWithNix runs C++ Nix on a row's input and checks its message and
// exit code.
func compareWithNix(t *testing.T, fx *badInputFixtures, tc badCase, wantCode int) {
	t.Helper()
	args := fx.expand(tc.nix)
	if _, err := exec.LookPath(args[0]); err != nil {
		t.Logf("NOT COMPARED with Nix: %s is not installed", args[0])
		return
	}
	nixRunsOnce.Do(func() {
		// A single-user installation works for its owner only.
		out, err := exec.Command("nix-instantiate", "--eval", "-E", "1").CombinedOutput()
		if err != nil {
			nixProblem = fmt.Sprintf("%v: %s", err, out)
		}
	})
	if nixProblem != "" {
		t.Logf("NOT COMPARED with Nix: it does not run here: %s", nixProblem)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = fx.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader(tc.stdin)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if code != wantCode {
		t.Errorf("Nix (%q) exits with %d, nixl with %d:\n%s", args, code, wantCode, stderr.String())
	}
	if !regexp.MustCompile(tc.nixStderr).MatchString(stderr.String()) {
		t.Errorf("Nix (%q) says, not matching %s:\n%s", args, tc.nixStderr, stderr.String())
	}
}
