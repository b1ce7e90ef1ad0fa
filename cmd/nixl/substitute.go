package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/nixl-project/nixl/realise/build"
	"github.com/nixl-project/nixl/realise/cache"
	"github.com/nixl-project/nixl/realise/store/local"
)

// The commands that build (build, shell, profile install) share their
// builder flags, registered here, including substitution from binary
// caches.

var _ build.Substituter = (*cache.StoreSubstituter)(nil)

// registerRealise registers the flags that configure the builder.
func (f *buildFlags) registerRealise(fs *pflag.FlagSet) {
	fs.IntVarP(&f.jobs, "max-jobs", "j", 0, "run at most `N` builds at once (default: the number of cores)")
	fs.IntVar(&f.cores, "cores", 0, "the parallelism `N` offered to each builder as NIX_BUILD_CORES (default: the number of cores)")
	fs.BoolVarP(&f.keepGoing, "keep-going", "k", false, "keep building what does not depend on a failed build")
	fs.BoolVarP(&f.keepFailed, "keep-failed", "K", false, "keep the build directories of failed builds")
	fs.BoolVarP(&f.printLogs, "print-build-logs", "L", false, "print the build logs, each line prefixed with the derivation name")
	fs.StringVar(&f.sandbox, "sandbox", "", "`on` (the default) to build in a sandbox, off to run builders directly")
	fs.StringArrayVar(&f.sandboxPaths, "sandbox-paths", nil, "host `PATHS` visible in the sandbox, as TARGET=SOURCE or PATH (default: /bin/sh)")
	fs.StringArrayVar(&f.extraPlatforms, "extra-platforms", nil, "other `SYSTEMS` this machine can build for (i686-linux…)")
	f.subst.register(fs)
}

// substFlags select the binary caches missing outputs are fetched from.
type substFlags struct {
	substituters      []string
	extraSubstituters []string
	trustedKeys       []string
	extraTrustedKeys  []string
}

func (s *substFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&s.substituters, "substituters", nil, "fetch missing outputs from the binary caches at `URLS` (white-space separated; repeatable; replaces the configured ones, '' for none)")
	fs.StringArrayVar(&s.extraSubstituters, "extra-substituters", nil, "binary cache `URLS` to use besides the configured ones")
	fs.StringArrayVar(&s.trustedKeys, "trusted-public-keys", nil, "accept paths signed by `KEYS` (NAME:BASE64, white-space separated; repeatable; replaces the configured ones)")
	fs.StringArrayVar(&s.extraTrustedKeys, "extra-trusted-public-keys", nil, "trusted `KEYS` besides the configured ones")
}

// substituteHelp is the part of a building command's help about
// substitution.
var substituteHelp = joinLines(
	"Before building a derivation whose outputs are missing, the binary caches of",
	"--substituters are asked for them; an output whose narinfo is signed by one of the",
	"--trusted-public-keys is downloaded, checked (NAR hash and size) and registered instead",
	"of being built, with its closure. Anything that cannot be fetched is built. The defaults",
	"are the substituters, trusted-public-keys, require-sigs and max-substitution-jobs settings",
	"(nix.conf syntax) of $NIXL_CONF_FILE, else $XDG_CONFIG_HOME/nixl/nixl.conf",
	"(~/.config/nixl/nixl.conf), then of $NIXL_CONFIG.")

// config returns the substitution settings: the configuration file, then
// $NIXL_CONFIG, then the flags.
func (s *substFlags) config() (cache.Config, error) {
	cfg := cache.DefaultConfig()
	if err := cache.LoadConfigFile(cache.DefaultConfigFile(), &cfg); err != nil {
		return cfg, err
	}
	if env := os.Getenv("NIXL_CONFIG"); env != "" {
		if err := cache.ParseConfig(strings.NewReader(env), &cfg); err != nil {
			return cfg, fmt.Errorf("NIXL_CONFIG: %w", err)
		}
	}
	fields := func(list []string) []string {
		var out []string
		for _, s := range list {
			out = append(out, strings.Fields(s)...)
		}
		return out
	}
	if s.substituters != nil {
		cfg.Substituters = fields(s.substituters)
	}
	cfg.Substituters = append(cfg.Substituters, fields(s.extraSubstituters)...)
	if s.trustedKeys != nil {
		cfg.TrustedPublicKeys = fields(s.trustedKeys)
	}
	cfg.TrustedPublicKeys = append(cfg.TrustedPublicKeys, fields(s.extraTrustedKeys)...)
	return cfg, nil
}

// substituter returns the builder's substituter for ls, reporting its
// downloads to rep, or nil when no binary cache is configured.
func (s *substFlags) substituter(ls *local.Store, rep *buildReporter) (build.Substituter, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	if len(cfg.Substituters) == 0 {
		return nil, nil
	}
	// Like http.DefaultClient, but a server that accepts the connection
	// and never answers does not hang the build.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = time.Minute
	sub, err := cfg.NewSubstituter(&cache.Options{HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		return nil, err
	}
	sub.Progress = rep.substEvent
	return sub.ForStore(ls), nil
}

// substStatus is what the build reporter knows of substitutions.
type substStatus struct {
	copied   int
	fetching []string // store paths, in start order
	received map[string][2]int64
}

var _ build.SubstitutionReporter = (*buildReporter)(nil)

func (r *buildReporter) WillSubstitute(paths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	fmt.Fprintf(r.w, "%s:\n", plural(len(paths), "this path will be fetched", "these %d paths will be fetched"))
	for _, p := range paths {
		fmt.Fprintf(r.w, "  %s\n", p)
	}
	r.drawLocked(true)
}

func (r *buildReporter) SubstituteProblem(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	fmt.Fprintf(r.w, "warning: %v\n", err)
	r.drawLocked(true)
}

func (r *buildReporter) SubstituteFailed(drvPath string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(r.w, "warning: %s\n", line)
		}
	}
	fmt.Fprintf(r.w, "warning: the outputs of '%s' could not be substituted; building it instead\n", drvPath)
	r.drawLocked(true)
}

// substEvent receives the substituter's progress.
func (r *buildReporter) substEvent(e cache.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.subst
	if st.received == nil {
		st.received = map[string][2]int64{}
	}
	remove := func() {
		for i, p := range st.fetching {
			if p == e.Path {
				st.fetching = append(st.fetching[:i], st.fetching[i+1:]...)
				break
			}
		}
		delete(st.received, e.Path)
	}
	switch e.Kind {
	case cache.Started:
		st.fetching = append(st.fetching, e.Path)
		st.received[e.Path] = [2]int64{0, e.Total}
		if !r.tty {
			fmt.Fprintf(r.w, "copying path '%s' from '%s'...\n", e.Path, e.Cache)
			return
		}
	case cache.Receiving:
		st.received[e.Path] = [2]int64{e.Bytes, e.Total}
		r.drawLocked(false)
		return
	case cache.Done:
		remove()
		st.copied++
	case cache.Failed:
		// The reason is reported with the derivation (SubstituteFailed).
		remove()
	}
	r.drawLocked(true)
}

// substStatusLocked returns the counts and the activity the status line
// shows for substitutions.
func (r *buildReporter) substStatusLocked() (counts, activity string) {
	st := &r.subst
	if st.copied > 0 || len(st.fetching) > 0 {
		counts = fmt.Sprintf(", %d copied", st.copied)
	}
	if len(st.fetching) > 0 {
		latest := st.fetching[len(st.fetching)-1]
		activity = fmt.Sprintf(" fetching %s", filepath.Base(latest))
		if n := st.received[latest]; n[1] > 0 {
			activity += fmt.Sprintf(" (%.1f/%.1f MiB)", float64(n[0])/(1<<20), float64(n[1])/(1<<20))
		}
		if len(st.fetching) > 1 {
			activity += fmt.Sprintf(" and %d more", len(st.fetching)-1)
		}
	}
	return counts, activity
}
