package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	register(&command{name: "store", summary: "manage the store: add, query, dump, collect garbage, verify", run: func(c *cli, args []string) int {
		return c.storeCmd(args)
	}})
}

// storeSub is one subcommand of 'nixl store'.
type storeSub struct {
	name    string
	args    string // usage after the flags
	summary string
	// flags registers the subcommand's own flags and returns its body,
	// which runs after parsing with the remaining arguments.
	flags func(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int
}

var storeSubs = []storeSub{
	{"add", "PATH…", "add files or directories to the store and print their store paths", storeAdd},
	{"cat", "PATH", "print the contents of a file in the store", storeCat},
	{"delete", "PATH…", "delete store paths that are not alive (nix-store --delete)", storeDelete},
	{"dump", "PATH", "write the NAR serialisation of a path to standard output (nix-store --dump)", storeDump},
	{"gc", "", "delete the store paths unreachable from the roots (nix-store --gc)", storeGC},
	{"ls", "PATH", "list the contents of a path in the store (nix store ls)", storeLs},
	{"path-info", "PATH…", "print information about valid store paths (nix path-info)", storePathInfo},
	{"referrers", "PATH…", "print the valid paths referring to store paths (nix-store -q --referrers)", storeReferrers},
	{"refs", "PATH…", "print the references of store paths (nix-store -q --references)", storeRefs},
	{"restore", "PATH", "recreate a path from a NAR on standard input (nix-store --restore)", storeRestore},
	{"roots", "", "print the garbage collector roots (nix-store --gc --print-roots)", storeRoots},
	{"verify", "", "check that valid paths exist and, with --check-contents, are unmodified", storeVerify},
}

// storeOpts are the flags every store subcommand has.
type storeOpts struct {
	storeDir string
	stateDir string
}

func (c *cli) storeUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: nixl store SUBCOMMAND [FLAGS] [ARGS]\n\nSubcommands:\n")
	width := 0
	for _, sub := range storeSubs {
		width = max(width, len(sub.name))
	}
	for _, sub := range storeSubs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, sub.name, sub.summary)
	}
	fmt.Fprint(w, joinLines("",
		"The store is $NIXL_STORE_DIR, by default $XDG_DATA_HOME/nixl/store",
		"(~/.local/share/nixl/store), with its database and roots in $NIXL_STATE_DIR,",
		"by default $XDG_DATA_HOME/nixl/var. Every subcommand takes --store-dir and",
		"--state-dir to choose others.",
		"",
		"Run 'nixl store SUBCOMMAND --help' for the flags of a subcommand."))
}

func (c *cli) storeCmd(args []string) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		w := c.stdout
		if len(args) == 0 {
			w = c.stderr
		}
		c.storeUsage(w)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	for _, sub := range storeSubs {
		if sub.name != args[0] {
			continue
		}
		var o storeOpts
		fs := pflag.NewFlagSet("store "+sub.name, pflag.ContinueOnError)
		fs.SetOutput(c.stderr)
		fs.StringVar(&o.storeDir, "store-dir", "", "the store `DIR` (default: $NIXL_STORE_DIR, else ~/.local/share/nixl/store)")
		fs.StringVar(&o.stateDir, "state-dir", "", "the state `DIR` holding the database and roots (default: $NIXL_STATE_DIR, else ~/.local/share/nixl/var)")
		run := sub.flags(fs)
		fs.Usage = func() {
			fmt.Fprintf(c.stderr, "Usage: nixl store %s [FLAGS] %s\n\n%s.\n\nFlags:\n%s", sub.name, sub.args, upperFirst(sub.summary), fs.FlagUsages())
		}
		if rc, stop := c.parseFlags(fs, args[1:]); stop {
			return rc
		}
		return run(c, &o, fs.Args())
	}
	fmt.Fprintf(c.stderr, "error: unknown store subcommand '%s'\n", args[0])
	c.storeUsage(c.stderr)
	return 1
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// openLocalStore opens the store the flags (or the environment) name.
func (c *cli) openLocalStore(o *storeOpts) (*local.Store, error) {
	opts := local.Options{StoreDir: o.storeDir, StateDir: o.stateDir}
	for _, d := range []*string{&opts.StoreDir, &opts.StateDir} {
		if *d != "" {
			abs, err := filepath.Abs(*d)
			if err != nil {
				return nil, err
			}
			*d = abs
		}
	}
	return local.Open(opts)
}

// withStore runs body with the opened store, reporting errors.
func (c *cli) withStore(o *storeOpts, body func(s *local.Store) error) int {
	s, err := c.openLocalStore(o)
	if err != nil {
		return c.errorf("%v", err)
	}
	err = body(s)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, errSilentFailure) {
			return 1
		}
		return c.errorf("%v", err)
	}
	return 0
}

// errSilentFailure is returned by a body that already reported its errors.
var errSilentFailure = errors.New("failed")

func needArgs(args []string, min, max int, what string) error {
	switch {
	case len(args) < min:
		return fmt.Errorf("missing argument: %s", what)
	case max >= 0 && len(args) > max:
		return fmt.Errorf("unexpected argument '%s'", args[max])
	}
	return nil
}

// resolvePath turns a command-line argument into a store path, following
// symlinks outside the store (such as 'result') as Nix does. The path
// need not be valid.
func resolvePath(s *local.Store, arg string) (string, error) {
	p, err := filepath.Abs(arg)
	if err != nil {
		return "", err
	}
	for i := 0; i < 40 && !strings.HasPrefix(p, s.Dir()+"/"); i++ {
		info, err := os.Lstat(p)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			break
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = filepath.Clean(target)
	}
	return s.ToStorePath(p)
}

// resolveValid is resolvePath for a path that must be valid.
func resolveValid(s *local.Store, arg string) (string, error) {
	p, err := resolvePath(s, arg)
	if err != nil {
		return "", err
	}
	valid, err := s.IsValidPath(p)
	if err != nil {
		return "", err
	}
	if !valid {
		return "", &local.InvalidPathError{Path: p}
	}
	return p, nil
}

// resolveInside resolves an argument to an absolute path inside a valid
// store path (for ls and cat, which accept paths below store paths).
func resolveInside(s *local.Store, arg string) (string, error) {
	p, err := filepath.Abs(arg)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(p, s.Dir()+"/") {
		// Through a link such as result/bin.
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			p = resolved
		}
	}
	if _, err := resolveValid(s, p); err != nil {
		return "", err
	}
	return p, nil
}

func storeAdd(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	flat := fs.Bool("flat", false, "add a regular file by the hash of its contents (nix-store --add-fixed sha256)")
	name := fs.String("name", "", "the store path `NAME` (default: the file's base name)")
	root := fs.String("add-root", "", "make `LINK` a symlink to the added path and a garbage collector root")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		if (*name != "" || *root != "") && len(args) > 1 {
			return c.errorf("--name and --add-root take a single PATH")
		}
		return c.withStore(o, func(s *local.Store) error {
			for _, arg := range args {
				abs, err := filepath.Abs(arg)
				if err != nil {
					return err
				}
				if _, err := os.Lstat(abs); err != nil {
					return fmt.Errorf("cannot add '%s': %w", arg, unwrapPathError(err))
				}
				n := *name
				if n == "" {
					n = filepath.Base(abs)
				}
				p, err := s.AddPath(n, abs, !*flat, nil)
				if err != nil {
					return fmt.Errorf("cannot add '%s': %w", arg, err)
				}
				if *root != "" {
					if err := s.AddRoot(p, *root); err != nil {
						return err
					}
				}
				fmt.Fprintln(c.stdout, p)
			}
			return nil
		})
	}
}

// unwrapPathError drops the operation and path of an *fs.PathError,
// whose message ("lstat /x: no such file or directory") reads poorly
// after ours.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func storeDump(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, 1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		if _, err := os.Lstat(args[0]); err != nil {
			return c.errorf("cannot dump '%s': %v", args[0], unwrapPathError(err))
		}
		w := bufio.NewWriterSize(c.stdout, 1<<16)
		if _, err := store.DumpPath(w, args[0], nil); err != nil {
			return c.errorf("%v", err)
		}
		if err := w.Flush(); err != nil {
			return c.errorf("%v", err)
		}
		return 0
	}
}

func storeRestore(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, 1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		if _, err := os.Lstat(args[0]); err == nil {
			return c.errorf("cannot restore to '%s': it already exists", args[0])
		}
		if err := store.RestorePath(bufio.NewReaderSize(c.stdin, 1<<16), args[0]); err != nil {
			return c.errorf("%v", err)
		}
		return 0
	}
}

func storeRefs(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return queryCmd("PATH", func(s *local.Store, p string) ([]string, error) { return s.QueryReferences(p) })
}

func storeReferrers(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return queryCmd("PATH", func(s *local.Store, p string) ([]string, error) { return s.QueryReferrers(p) })
}

// queryCmd prints the sorted union of query over the valid paths given.
func queryCmd(what string, query func(s *local.Store, p string) ([]string, error)) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, what); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			var out []string
			for _, arg := range args {
				p, err := resolveValid(s, arg)
				if err != nil {
					return err
				}
				r, err := query(s, p)
				if err != nil {
					return err
				}
				out = append(out, r...)
			}
			slices.Sort(out)
			for _, p := range slices.Compact(out) {
				fmt.Fprintln(c.stdout, p)
			}
			return nil
		})
	}
}

// pathInfoJSON is one element of path-info --json, with Nix's keys in
// Nix's order.
type pathInfoJSON struct {
	Path             string   `json:"path"`
	NarHash          string   `json:"narHash"`
	NarSize          int64    `json:"narSize"`
	References       []string `json:"references"`
	CA               string   `json:"ca,omitempty"`
	ClosureSize      *int64   `json:"closureSize,omitempty"`
	Deriver          string   `json:"deriver,omitempty"`
	RegistrationTime int64    `json:"registrationTime,omitempty"`
	Ultimate         bool     `json:"ultimate,omitempty"`
	Signatures       []string `json:"signatures,omitempty"`
}

func storePathInfo(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	closure := fs.BoolP("closure", "r", false, "show the closure of the paths (everything they refer to, recursively)")
	asJSON := fs.Bool("json", false, "print JSON, as nix path-info --json does")
	size := fs.BoolP("size", "s", false, "show the NAR size of each path")
	closureSize := fs.BoolP("closure-size", "S", false, "show the total NAR size of each path's closure")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			var paths []string
			for _, arg := range args {
				p, err := resolveValid(s, arg)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			slices.Sort(paths)
			paths = slices.Compact(paths)
			if *closure {
				var err error
				if paths, err = s.Closure(paths); err != nil {
					return err
				}
			}
			infos := make([]*local.PathInfo, len(paths))
			closureSizes := make([]int64, len(paths))
			for i, p := range paths {
				info, err := s.QueryPathInfo(p)
				if err != nil {
					return err
				}
				infos[i] = info
				if *closureSize {
					cl, err := s.Closure([]string{p})
					if err != nil {
						return err
					}
					for _, q := range cl {
						qi, err := s.QueryPathInfo(q)
						if err != nil {
							return err
						}
						closureSizes[i] += qi.NarSize
					}
				}
			}
			if *asJSON {
				out := make([]pathInfoJSON, len(infos))
				for i, info := range infos {
					out[i] = pathInfoJSON{
						Path:             info.Path,
						NarHash:          info.NarHash.SRI(),
						NarSize:          info.NarSize,
						References:       append([]string{}, info.References...),
						CA:               info.CA,
						Deriver:          info.Deriver,
						RegistrationTime: info.RegistrationTime.Unix(),
						Ultimate:         info.Ultimate,
						Signatures:       info.Sigs,
					}
					if *closureSize {
						out[i].ClosureSize = &closureSizes[i]
					}
				}
				enc := json.NewEncoder(c.stdout)
				enc.SetEscapeHTML(false)
				return enc.Encode(out)
			}
			width := 0
			for _, p := range paths {
				width = max(width, len(p))
			}
			for i, info := range infos {
				line := info.Path
				if *size || *closureSize {
					line += strings.Repeat(" ", width-len(info.Path))
				}
				if *size {
					line += fmt.Sprintf("\t%11d", info.NarSize)
				}
				if *closureSize {
					line += fmt.Sprintf("\t%11d", closureSizes[i])
				}
				fmt.Fprintln(c.stdout, line)
			}
			return nil
		})
	}
}

func storeLs(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	recursive := fs.BoolP("recursive", "R", false, "list subdirectories recursively")
	long := fs.BoolP("long", "l", false, "show type, permissions and size, as ls -l does")
	directory := fs.BoolP("directory", "d", false, "show a directory itself rather than its contents")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, 1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			p, err := resolveInside(s, args[0])
			if err != nil {
				return err
			}
			info, err := os.Lstat(p)
			if err != nil {
				return fmt.Errorf("path '%s' does not exist", p)
			}
			l := lister{w: c.stdout, recursive: *recursive, long: *long}
			rel := filepath.Base(p)
			if info.IsDir() {
				rel = "."
			}
			return l.path(p, rel, info, *directory)
		})
	}
}

// lister prints paths as nix store ls does.
type lister struct {
	w               io.Writer
	recursive, long bool
}

func (l *lister) path(p, rel string, info fs.FileInfo, showDirectory bool) error {
	if info.IsDir() && !showDirectory {
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range entries { // sorted by name, as Nix sorts
			child := filepath.Join(p, e.Name())
			ci, err := os.Lstat(child)
			if err != nil {
				return err
			}
			if err := l.file(child, rel+"/"+e.Name(), ci); err != nil {
				return err
			}
		}
		return nil
	}
	return l.file(p, rel, info)
}

func (l *lister) file(p, rel string, info fs.FileInfo) error {
	if l.long {
		mode := info.Mode()
		var tp string
		var size int64
		switch {
		case mode.IsRegular():
			tp, size = "-r--r--r--", info.Size()
			if mode&0o100 != 0 {
				tp = "-r-xr-xr-x"
			}
		case mode&fs.ModeSymlink != 0:
			tp = "lrwxrwxrwx"
		default:
			tp = "dr-xr-xr-x"
		}
		line := fmt.Sprintf("%s %20d %s", tp, size, rel)
		if mode&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		}
		fmt.Fprintln(l.w, line)
	} else {
		fmt.Fprintln(l.w, rel)
	}
	if l.recursive && info.IsDir() {
		return l.path(p, rel, info, false)
	}
	return nil
}

func storeCat(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, 1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			p, err := resolveInside(s, args[0])
			if err != nil {
				return err
			}
			info, err := os.Lstat(p)
			if err != nil {
				return fmt.Errorf("path '%s' does not exist", p)
			}
			if !info.Mode().IsRegular() {
				return fmt.Errorf("path '%s' is not a regular file", p)
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(c.stdout, f)
			return err
		})
	}
}

// showMiB formats freed bytes as Nix does.
func showMiB(bytes uint64) string {
	return fmt.Sprintf("%.2f MiB", float64(bytes)/(1024*1024))
}

// parseSize parses a byte count with an optional K, M, G or T suffix, as
// Nix's --max-freed does.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M', 'm':
			mult = 1 << 20
		case 'G', 'g':
			mult = 1 << 30
		case 'T', 't':
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > ^uint64(0)/mult {
		return 0, fmt.Errorf("invalid size '%s'", s)
	}
	return v * mult, nil
}

func storeGC(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	dryRun := fs.Bool("dry-run", false, "print the paths that would be deleted (nix-store --gc --print-dead) without deleting them")
	maxFreed := fs.String("max-freed", "", "stop after freeing `SIZE` bytes (suffixes K, M, G, T allowed)")
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 0, 0, ""); err != nil {
			return c.errorf("%v", err)
		}
		var limit uint64
		if *maxFreed != "" {
			var err error
			if limit, err = parseSize(*maxFreed); err != nil {
				return c.errorf("--max-freed: %v", err)
			}
			if limit == 0 {
				fmt.Fprintln(c.stdout, "0 store paths deleted, 0.00 MiB freed")
				return 0
			}
		}
		return c.withStore(o, func(s *local.Store) error {
			res, err := s.GC(*dryRun, limit)
			if res != nil {
				c.reportDeleted(res, *dryRun)
			}
			return err
		})
	}
}

func (c *cli) reportDeleted(res *local.GCResult, dryRun bool) {
	if dryRun {
		for _, p := range res.Paths {
			fmt.Fprintln(c.stdout, p)
		}
		fmt.Fprintf(c.stderr, "%d store paths would be deleted, %s would be freed\n", len(res.Paths), showMiB(res.BytesFreed))
		return
	}
	for _, p := range res.Paths {
		fmt.Fprintf(c.stderr, "deleting '%s'\n", p)
	}
	fmt.Fprintf(c.stdout, "%d store paths deleted, %s freed\n", len(res.Paths), showMiB(res.BytesFreed))
}

func storeDelete(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 1, -1, "PATH"); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			var paths []string
			for _, arg := range args {
				p, err := resolvePath(s, arg)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			res, err := s.DeletePaths(paths)
			if res != nil {
				c.reportDeleted(res, false)
			}
			return err
		})
	}
}

func storeVerify(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	checkContents := fs.Bool("check-contents", false, "also check that the contents of each path match its registered NAR hash")
	var rf repairFlags
	rf.register(fs)
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 0, 0, ""); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			fmt.Fprintln(c.stderr, "checking path existence...")
			if *checkContents {
				fmt.Fprintln(c.stderr, "checking store hashes...")
			}
			problems, err := s.Verify(*checkContents)
			for _, p := range problems {
				fmt.Fprintln(c.stderr, p.String())
			}
			if err != nil {
				return err
			}
			if rf.repair && len(problems) > 0 {
				found := len(problems)
				if problems, err = c.repairProblems(s, problems, &rf); err != nil {
					return err
				}
				if len(problems) > 0 {
					fmt.Fprintf(c.stderr, "error: %d of the %d problems found in the store could not be repaired\n", len(problems), found)
					return errSilentFailure
				}
			}
			if len(problems) > 0 {
				fmt.Fprintf(c.stderr, "error: %d problems found in the store\n", len(problems))
				return errSilentFailure
			}
			return nil
		})
	}
}

func storeRoots(fs *pflag.FlagSet) func(c *cli, o *storeOpts, args []string) int {
	return func(c *cli, o *storeOpts, args []string) int {
		if err := needArgs(args, 0, 0, ""); err != nil {
			return c.errorf("%v", err)
		}
		return c.withStore(o, func(s *local.Store) error {
			roots, err := s.FindRoots()
			if err != nil {
				return err
			}
			for _, r := range roots {
				fmt.Fprintf(c.stdout, "%s -> %s\n", r.Link, r.Target)
			}
			return nil
		})
	}
}
