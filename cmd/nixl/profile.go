package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/profile"
	"github.com/nixl-project/nixl/realise/store/local"
)

func init() {
	register(&command{name: "profile", summary: "install packages into a profile, with generations and rollback (nix profile)", run: func(c *cli, args []string) int {
		return c.profileCmd(args)
	}})
}

// profileSub is one subcommand of 'nixl profile'.
type profileSub struct {
	name    string
	args    string
	summary string
	run     func(c *cli, p *profileFlags, fs *pflag.FlagSet, args []string) int
}

var profileSubs = []profileSub{
	{"install", "[FILE | -E EXPR] [-A ATTR…]", "build packages and install them, replacing installed packages of the same name", (*cli).profileInstall},
	{"upgrade", "[NAME…]", "rebuild installed packages from the files they were installed from, and install the results", (*cli).profileUpgrade},
	{"remove", "NAME…", "uninstall packages, by name or attribute path", (*cli).profileRemove},
	{"list", "", "show the installed packages", (*cli).profileList},
	{"history", "", "show the generations of the profile and what changed in each", (*cli).profileHistory},
	{"rollback", "", "switch to the generation before the current one", (*cli).profileRollback},
	{"switch-generation", "N", "switch to generation N", (*cli).profileSwitch},
	{"wipe-history", "", "delete the generations other than the current one (with --older-than, only old ones)", (*cli).profileWipe},
}

// profileFlags are the flags of 'nixl profile' subcommands; build holds
// the evaluation and builder flags of install and upgrade.
type profileFlags struct {
	build     buildFlags
	profile   string
	priority  int
	json      bool
	olderThan string
	dryRun    bool
}

// storeOpts returns the store flags, which install and upgrade take
// through the evaluation flags.
func (p *profileFlags) storeOpts() *storeOpts {
	return &storeOpts{storeDir: p.build.storeDir, stateDir: p.build.stateDir}
}

func (c *cli) profileUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: nixl profile SUBCOMMAND [FLAGS] [ARGS]\n\nSubcommands:\n")
	width := 0
	for _, sub := range profileSubs {
		width = max(width, len(sub.name))
	}
	for _, sub := range profileSubs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, sub.name, sub.summary)
	}
	fmt.Fprint(w, profileHelp)
}

var profileHelp = joinLines("",
	"A profile is a symbolic link to its current generation, PROFILE-N-link, next to the",
	"older ones; each generation is a store path merging the installed packages' trees",
	"(bin/, share/…) with a manifest.json recording them, and a garbage collector root.",
	"The default profile is $NIXL_STATE_DIR/profiles/profile (~/.local/share/nixl/var/",
	"profiles/profile); put its bin/ on your PATH. Every subcommand takes --profile PATH,",
	"--store-dir and --state-dir.",
	"",
	"Run 'nixl profile SUBCOMMAND --help' for the flags of a subcommand.")

func (c *cli) profileCmd(args []string) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		w := c.stdout
		if len(args) == 0 {
			w = c.stderr
		}
		c.profileUsage(w)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	for _, sub := range profileSubs {
		if sub.name != args[0] {
			continue
		}
		var p profileFlags
		fs := pflag.NewFlagSet("profile "+sub.name, pflag.ContinueOnError)
		fs.SetOutput(c.stderr)
		fs.StringVar(&p.profile, "profile", "", "the profile `PATH` (default: $NIXL_STATE_DIR/profiles/profile)")
		fs.StringVar(&p.build.stateDir, "state-dir", "", "the state `DIR` (default: $NIXL_STATE_DIR, else ~/.local/share/nixl/var)")
		rest := args[1:]
		switch sub.name {
		case "install", "upgrade":
			p.build.register(fs)
			p.build.registerRealise(fs)
			var err error
			if rest, err = p.build.takeAutoArgs(rest); err != nil {
				return c.errorf("%v", err)
			}
		default:
			fs.StringVar(&p.build.storeDir, "store-dir", "", "the store `DIR` (default: $NIXL_STORE_DIR, else ~/.local/share/nixl/store)")
		}
		switch sub.name {
		case "install":
			fs.IntVar(&p.priority, "priority", profile.DefaultPriority, "the `PRIORITY` of the packages: when two provide the same file, the lower number wins")
		case "list":
			fs.BoolVar(&p.json, "json", false, "print the manifest as JSON")
		case "wipe-history":
			fs.StringVar(&p.olderThan, "older-than", "", "delete only generations older than `AGE` (Nd: N days), keeping the newest of those")
			fs.BoolVar(&p.dryRun, "dry-run", false, "show what would be deleted, and delete nothing")
		}
		fs.Usage = func() {
			extra := ""
			if sub.name == "install" || sub.name == "upgrade" {
				extra = "\n" + substituteHelp
			}
			fmt.Fprintf(c.stderr, "Usage: nixl profile %s [FLAGS] %s\n\n%s.\n%s\nFlags:\n%s", sub.name, sub.args, upperFirst(sub.summary), extra, fs.FlagUsages())
		}
		if rc, stop := c.parseFlags(fs, rest); stop {
			return rc
		}
		p.build.exprSet = fs.Changed("expr")
		return sub.run(c, &p, fs, fs.Args())
	}
	fmt.Fprintf(c.stderr, "error: unknown profile subcommand '%s'\n", args[0])
	c.profileUsage(c.stderr)
	return 1
}

// openProfile returns the profile the flags name.
func (p *profileFlags) openProfile() (*profile.Profile, error) {
	if p.profile != "" {
		return profile.Open(p.profile)
	}
	state := p.build.stateDir
	if state == "" {
		var err error
		if _, state, err = local.DefaultDirs(); err != nil {
			return nil, err
		}
	}
	return profile.Open(filepath.Join(state, "profiles", "profile"))
}

// currentManifest reads the manifest of the current generation (empty
// if there is none).
func currentManifest(prof *profile.Profile) (*profile.Manifest, error) {
	cur, err := prof.Current()
	if err != nil {
		return nil, err
	}
	if cur == 0 {
		return &profile.Manifest{}, nil
	}
	return profile.ReadManifest(prof.Path)
}

// warningWriter passes the "warning: …" lines of a builder's log on.
type warningWriter struct {
	w   io.Writer
	buf []byte
}

func (w *warningWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			break
		}
		if line := string(w.buf[:i]); strings.HasPrefix(line, "warning: ") {
			fmt.Fprintln(w.w, line)
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// commit makes m the profile's new current generation: it builds the
// generation's store path, adds a generation unless the newest one is
// that path already, and switches to it. The caller holds the lock.
func (c *cli) commitProfile(ctx context.Context, ls *local.Store, prof *profile.Profile, m *profile.Manifest) error {
	path, err := profile.Build(ctx, ls, m, &warningWriter{w: c.stderr})
	if err != nil {
		return err
	}
	gen, _, err := prof.AddGeneration(ls, path)
	if err != nil {
		return err
	}
	cur, err := prof.Current()
	if err != nil {
		return err
	}
	if cur == gen.Number {
		return nil
	}
	return prof.Switch(gen.Number)
}

// installElements turns what was built into manifest elements: one per
// derivation (its outputs together), named after the derivation.
func installElements(reqs []realiseRequest, sources []string, built []realised) ([]profile.Element, error) {
	var elems []profile.Element
	byDrv := map[string]int{}
	for _, r := range built {
		if i, ok := byDrv[r.drvPath]; ok {
			if !slices.Contains(elems[i].Outputs, r.output) {
				elems[i].Outputs = append(elems[i].Outputs, r.output)
				elems[i].StorePaths = append(elems[i].StorePaths, r.path)
			}
			continue
		}
		name, version := profile.SplitName(r.drvName)
		for _, e := range elems {
			if e.Name == name {
				return nil, fmt.Errorf("cannot install two packages named '%s' at once ('%s' and '%s')", name, e.Label(), r.drvName)
			}
		}
		byDrv[r.drvPath] = len(elems)
		elems = append(elems, profile.Element{
			Name:       name,
			Version:    version,
			AttrPath:   reqs[r.req].attr,
			Source:     sources[r.req],
			Outputs:    []string{r.output},
			StorePaths: []string{r.path},
		})
	}
	return elems, nil
}

func (c *cli) profileInstall(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if len(args) > 1 {
		return c.errorf("nixl profile install takes one file, not %d", len(args))
	}
	attrPaths := p.build.attrPaths
	if len(attrPaths) == 0 {
		attrPaths = []string{""} // as nix-env -i -f FILE: what the file is
	}
	file := ""
	if len(args) == 1 {
		file = args[0]
	}
	source := ""
	if !p.build.exprSet {
		source = absSource(file)
		if file == "" {
			source = absSource("default.nix")
		}
	}
	var reqs []realiseRequest
	var sources []string
	for _, a := range attrPaths {
		reqs = append(reqs, realiseRequest{file: file, attr: a})
		sources = append(sources, source)
	}
	return c.installRequests(p, reqs, sources, func(elem profile.Element) int { return p.priority }, nil)
}

// installRequests builds reqs and installs the results into the profile:
// elements of the same name are replaced. priority gives the priority of
// each new element; replace, if set, names elements to remove first
// (upgrade's old elements).
func (c *cli) installRequests(p *profileFlags, reqs []realiseRequest, sources []string, priority func(profile.Element) int, replace map[int][]string) int {
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	s, err := c.openRealise(&p.build)
	if err != nil {
		return c.errorf("%v", err)
	}
	defer s.close()
	built, code := s.realise(reqs)
	if code != 0 {
		return code
	}
	elems, err := installElements(reqs, sources, built)
	if err != nil {
		return c.errorf("%v", err)
	}
	unlock, err := prof.Lock()
	if err != nil {
		return c.errorf("%v", err)
	}
	defer unlock()
	m, err := currentManifest(prof)
	if err != nil {
		return c.errorf("%v", err)
	}
	removed := map[string]profile.Element{}
	for _, names := range replace {
		for _, name := range names {
			for _, old := range m.Remove(name) {
				removed[old.Name] = old
			}
		}
	}
	for _, e := range elems {
		e.Priority = priority(e)
		old := m.Install(e)
		if r, ok := removed[e.Name]; ok && old == nil {
			old = &r
		}
		if old == nil {
			fmt.Fprintf(c.stderr, "installing '%s'\n", e.Label())
		} else if old.Label() != e.Label() || !slices.Equal(old.StorePaths, e.StorePaths) {
			fmt.Fprintf(c.stderr, "upgrading '%s' to '%s'\n", old.Label(), e.Label())
		}
	}
	if err := c.commitProfile(s.ctx, s.ls, prof, m); err != nil {
		return c.errorf("%v", err)
	}
	return 0
}

func (c *cli) profileUpgrade(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if len(p.build.attrPaths) > 0 || p.build.exprSet {
		return c.errorf("nixl profile upgrade takes the names of installed packages, not -A or -E")
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	m, err := currentManifest(prof)
	if err != nil {
		return c.errorf("%v", err)
	}
	for _, a := range args {
		if m.Find(a) < 0 {
			return c.errorf("package '%s' is not installed", a)
		}
	}
	var reqs []realiseRequest
	var sources []string
	prios := map[string]int{}
	replace := map[int][]string{}
	index := map[realiseRequest]int{}
	for _, e := range m.Elements {
		if len(args) > 0 && !slices.Contains(args, e.Name) {
			continue
		}
		if e.Source == "" {
			fmt.Fprintf(c.stderr, "warning: '%s' was not installed from a file; it cannot be upgraded\n", e.Label())
			continue
		}
		r := realiseRequest{file: e.Source, attr: e.AttrPath}
		i, ok := index[r]
		if !ok {
			i = len(reqs)
			index[r] = i
			reqs = append(reqs, r)
			sources = append(sources, e.Source)
		}
		replace[i] = append(replace[i], e.Name)
		prios[e.AttrPath+"\x00"+e.Source] = e.Priority
	}
	if len(reqs) == 0 {
		return 0
	}
	return c.installRequests(p, reqs, sources, func(e profile.Element) int {
		if prio, ok := prios[e.AttrPath+"\x00"+e.Source]; ok {
			return prio
		}
		return profile.DefaultPriority
	}, replace)
}

func (c *cli) profileRemove(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 1, -1, "NAME"); err != nil {
		return c.errorf("%v", err)
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	return c.withStore(p.storeOpts(), func(ls *local.Store) error {
		unlock, err := prof.Lock()
		if err != nil {
			return err
		}
		defer unlock()
		m, err := currentManifest(prof)
		if err != nil {
			return err
		}
		for _, name := range args {
			removed := m.Remove(name)
			if len(removed) == 0 {
				return fmt.Errorf("package '%s' is not installed", name)
			}
			for _, e := range removed {
				fmt.Fprintf(c.stderr, "uninstalling '%s'\n", e.Label())
			}
		}
		ctx, cancel := shareSignalContext()
		defer cancel()
		return c.commitProfile(ctx, ls, prof, m)
	})
}

func (c *cli) profileList(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 0, 0, ""); err != nil {
		return c.errorf("%v", err)
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	m, err := currentManifest(prof)
	if err != nil {
		return c.errorf("%v", err)
	}
	if p.json {
		data, err := m.Marshal()
		if err != nil {
			return c.errorf("%v", err)
		}
		c.stdout.Write(data)
		return 0
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	for _, e := range m.Elements {
		attr := e.AttrPath
		if attr == "" {
			attr = "-"
		}
		src := e.Source
		if src == "" {
			src = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Label(), attr, src, strings.Join(e.StorePaths, " "))
	}
	tw.Flush()
	return 0
}

const historyTimeFormat = "2006-01-02 15:04:05"

func (c *cli) profileHistory(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 0, 0, ""); err != nil {
		return c.errorf("%v", err)
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	gens, err := prof.Generations()
	if err != nil {
		return c.errorf("%v", err)
	}
	w := bufio.NewWriter(c.stdout)
	defer w.Flush()
	var prev *profile.Manifest
	for i, g := range gens {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Version %d (%s)", g.Number, g.Time.Local().Format(historyTimeFormat))
		if i > 0 {
			fmt.Fprintf(w, " <- %d", gens[i-1].Number)
		}
		if g.Current {
			fmt.Fprint(w, " (current)")
		}
		fmt.Fprintln(w, ":")
		m, err := profile.ReadManifest(g.Link)
		if err != nil {
			fmt.Fprintf(w, "  error: %v\n", err)
			prev = nil
			continue
		}
		changes := profile.Diff(prev, m)
		if len(changes) == 0 {
			fmt.Fprintln(w, "  No changes.")
		}
		for _, ch := range changes {
			fmt.Fprintf(w, "  %s\n", ch)
		}
		prev = m
	}
	return 0
}

// switchTo switches the profile to generation n (under its lock).
func (c *cli) switchTo(prof *profile.Profile, n func() (int, error)) int {
	if cur, err := prof.Current(); err != nil {
		return c.errorf("%v", err)
	} else if cur == 0 {
		return c.errorf("profile '%s' does not exist", prof.Path)
	}
	unlock, err := prof.Lock()
	if err != nil {
		return c.errorf("%v", err)
	}
	defer unlock()
	cur, err := prof.Current()
	if err != nil {
		return c.errorf("%v", err)
	}
	to, err := n()
	if err != nil {
		return c.errorf("%v", err)
	}
	if err := prof.Switch(to); err != nil {
		return c.errorf("%v", err)
	}
	fmt.Fprintf(c.stderr, "switching profile from version %d to %d\n", cur, to)
	return 0
}

func (c *cli) profileRollback(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 0, 0, ""); err != nil {
		return c.errorf("%v", err)
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	return c.switchTo(prof, prof.Previous)
}

func (c *cli) profileSwitch(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 1, 1, "N"); err != nil {
		return c.errorf("%v", err)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return c.errorf("invalid generation number '%s'", args[0])
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	return c.switchTo(prof, func() (int, error) { return n, nil })
}

func (c *cli) profileWipe(p *profileFlags, fs *pflag.FlagSet, args []string) int {
	if err := needArgs(args, 0, 0, ""); err != nil {
		return c.errorf("%v", err)
	}
	var age time.Duration
	if p.olderThan != "" {
		var err error
		if age, err = profile.ParseAge(p.olderThan); err != nil {
			return c.errorf("%v", err)
		}
	}
	prof, err := p.openProfile()
	if err != nil {
		return c.errorf("%v", err)
	}
	if gens, err := prof.Generations(); err != nil {
		return c.errorf("%v", err)
	} else if len(gens) == 0 {
		return 0
	}
	unlock, err := prof.Lock()
	if err != nil {
		return c.errorf("%v", err)
	}
	defer unlock()
	old, err := prof.OldGenerations(age, time.Now())
	if err != nil {
		return c.errorf("%v", err)
	}
	for _, g := range old {
		if p.dryRun {
			fmt.Fprintf(c.stderr, "would remove profile version %d\n", g.Number)
			continue
		}
		fmt.Fprintf(c.stderr, "removing profile version %d\n", g.Number)
		if err := prof.DeleteGeneration(g.Number); err != nil {
			return c.errorf("%v", err)
		}
	}
	return 0
}
