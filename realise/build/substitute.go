package build

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/nixl-project/nixl/realise/derivation"
)

// Substituter fetches store paths from elsewhere (binary caches) instead
// of building them. Package realise/cache provides one
// (cache.Substituter.ForStore); the realiser needs nothing else of it.
// Its methods may be called concurrently.
type Substituter interface {
	// Substitutable returns which of paths (absolute store paths) can be
	// substituted. problems are reasons worth telling for some of the
	// others (an untrusted signature, a cache that cannot be reached);
	// a path that no cache has is not a problem. err is for failures
	// that stop the build (the context's cancellation).
	Substitutable(ctx context.Context, paths []string) (found map[string]bool, problems []error, err error)
	// Substitute makes paths valid, with their closures, checking
	// signatures and hashes; nothing is registered for a path that fails.
	// The error names each path that could not be substituted.
	Substitute(ctx context.Context, paths []string) error
}

// SubstitutionReporter is implemented by a Reporter that also wants to
// hear about substitution (the downloads themselves are reported by the
// Substituter's own means).
type SubstitutionReporter interface {
	// WillSubstitute is called with the output paths about to be
	// substituted.
	WillSubstitute(paths []string)
	// SubstituteProblem is called with a reason why a path cannot be
	// substituted (see Substituter.Substitutable).
	SubstituteProblem(err error)
	// SubstituteFailed is called when outputs of drvPath could not be
	// substituted after all; it is built instead.
	SubstituteFailed(drvPath string, err error)
}

// substitute runs before the plan is made, when Options.Substituter is
// set: from the targets down, level by level, it asks the substituter for
// the missing outputs of each derivation. A derivation whose missing
// outputs can all be substituted has them substituted (with their
// closures, several downloads at once), and its inputs are never looked
// at; the others, and those whose substitution fails, will be built, so
// their input derivations form the next level (and their missing input
// sources are substituted too). What is left invalid is built by the
// scheduler as usual. With Check nothing is substituted.
func (b *Builder) substitute(ctx context.Context, targets []Target) error {
	sub := b.opts.Substituter
	if sub == nil || b.opts.Check {
		return nil
	}
	srep, _ := b.reporter().(SubstitutionReporter)
	seen := map[string]bool{}
	var frontier []string
	for _, t := range targets {
		if !seen[t.DrvPath] {
			seen[t.DrvPath] = true
			frontier = append(frontier, t.DrvPath)
		}
	}
	var srcs []string // invalid input sources of derivations to build
	type candidate struct {
		drvPath string
		drv     *derivation.Derivation
		missing []string
	}
	for len(frontier) > 0 || len(srcs) > 0 {
		querySrcs := srcs
		srcs = nil
		var next []string
		var cands []candidate
		var query []string
		descend := func(drvPath string, drv *derivation.Derivation) error {
			for _, in := range sortedKeys(drv.InputDrvs) {
				if !seen[in] {
					seen[in] = true
					next = append(next, in)
				}
			}
			for _, src := range drv.InputSrcs {
				ok, err := b.store.IsValidPath(src)
				if err != nil {
					return err
				}
				if !ok && !seen[src] {
					seen[src] = true
					srcs = append(srcs, src)
				}
			}
			return nil
		}
		for _, drvPath := range frontier {
			drv, err := b.store.ReadDerivation(drvPath)
			if err != nil {
				return err
			}
			var missing []string
			unknown := false
			for _, name := range drv.OutputNames() {
				p := drv.Outputs[name].Path
				if p == "" {
					unknown = true
					break
				}
				ok, err := b.store.IsValidPath(p)
				if err != nil {
					return err
				}
				if !ok {
					missing = append(missing, p)
				}
			}
			switch {
			case unknown:
				// Content-addressed derivations: the plan reports them.
			case len(missing) > 0:
				cands = append(cands, candidate{drvPath, drv, missing})
				query = append(query, missing...)
			}
		}
		query = append(query, querySrcs...)
		if len(query) == 0 {
			frontier = next
			continue
		}
		found, problems, err := sub.Substitutable(ctx, query)
		if err != nil {
			return err
		}
		if srep != nil {
			for _, p := range problems {
				srep.SubstituteProblem(p)
			}
		}
		var fetch []string
		var fetching []candidate
		for _, c := range cands {
			all := true
			for _, p := range c.missing {
				all = all && found[p]
			}
			if all {
				fetch = append(fetch, c.missing...)
				fetching = append(fetching, c)
			} else if err := descend(c.drvPath, c.drv); err != nil {
				return err
			}
		}
		for _, s := range querySrcs {
			if found[s] {
				fetch = append(fetch, s)
			}
		}
		if len(fetch) > 0 {
			if srep != nil {
				srep.WillSubstitute(slices.Clone(fetch))
			}
			serr := sub.Substitute(ctx, fetch)
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, c := range fetching {
				valid, err := b.outputsValid(c.drv)
				if err != nil {
					return err
				}
				if valid {
					continue
				}
				if srep != nil {
					srep.SubstituteFailed(c.drvPath, errorsAbout(serr, c.missing))
				}
				if err := descend(c.drvPath, c.drv); err != nil {
					return err
				}
			}
		}
		frontier = next
	}
	return nil
}

// errorsAbout returns the parts of a joined error (errors.Join) that
// mention one of paths, or err itself if none does.
func errorsAbout(err error, paths []string) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var out []error
	for _, e := range joined.Unwrap() {
		for _, p := range paths {
			if strings.Contains(e.Error(), "'"+p+"'") {
				out = append(out, e)
				break
			}
		}
	}
	if len(out) == 0 {
		return err
	}
	return errors.Join(out...)
}
