package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/nixl-project/nixl/eval"
	"github.com/nixl-project/nixl/realise/build"
	"github.com/nixl-project/nixl/realise/store/local"
)

// realiseSession evaluates and builds for the commands that use what
// they build without result links (nixl shell, nixl profile): the store
// stays open, and the outputs are temporary roots of it, until close.
type realiseSession struct {
	c    *cli
	f    *buildFlags
	ws   *writeStore
	ls   *local.Store
	ctx  context.Context
	stop context.CancelFunc
	rep  *buildReporter
	b    *build.Builder
}

// realiseRequest names derivations to build: attribute path attr of
// file (the flags' -E expression, or default.nix, when file is "").
type realiseRequest struct {
	file string
	attr string
}

// realised is one output built for a request.
type realised struct {
	req     int // index of the request
	drvPath string
	drvName string
	output  string
	path    string
}

// openRealise opens the store and prepares the builder the flags
// describe.
func (c *cli) openRealise(f *buildFlags) (*realiseSession, error) {
	conf := loadConfig()
	opts, err := f.buildOptions(conf)
	if err != nil {
		return nil, err
	}
	ws, err := c.openWriteStore(&f.evalFlags, f.stateDir)
	if err != nil {
		return nil, err
	}
	ls, err := ws.open()
	if err != nil {
		ws.close(&f.evalFlags)
		return nil, err
	}
	s := &realiseSession{c: c, f: f, ws: ws, ls: ls}
	s.ctx, s.stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s.rep = newBuildReporter(c.stderr, ls, f.printLogs)
	opts.Reporter = s.rep
	if opts.Substituter, err = f.subst.substituter(ls, s.rep); err != nil {
		s.close()
		return nil, err
	}
	s.b = build.New(ls, opts)
	if opts.Sandbox == build.SandboxOn {
		if err := s.b.CheckSandbox(); err != nil {
			s.close()
			return nil, err
		}
	}
	ws.setBuilder(s.ctx, s.b)
	return s, nil
}

// close releases the store (and with it the temporary roots).
func (s *realiseSession) close() {
	s.rep.close()
	s.stop()
	s.ws.close(&s.f.evalFlags)
}

// realise evaluates the requests, builds the derivations they name and
// returns their outputs, each a temporary root of the session's store.
// Errors are reported on stderr; the int is the exit code then.
func (s *realiseSession) realise(reqs []realiseRequest) ([]realised, int) {
	c, f := s.c, s.f
	e, err := c.newEvaluator(&f.evalFlags)
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	autoArgs, err := autoArgsValue(e, f.autoArgs)
	if err != nil {
		fmt.Fprint(c.stderr, e.Render(err))
		return nil, 1
	}
	roots := map[string]eval.Value{}
	var out []realised
	var targets []build.Target
	for i, r := range reqs {
		root, ok := roots[r.file]
		if !ok {
			var args []string
			if r.file != "" {
				args = []string{r.file}
			}
			if root, err = c.loadRoot(e, &f.evalFlags, args); err != nil {
				fmt.Fprint(c.stderr, e.Render(err))
				return nil, 1
			}
			roots[r.file] = root
		}
		v, err := findAlongAttrPath(e, r.attr, autoArgs, root)
		if err == nil {
			var drvs []drvTarget
			if drvs, err = collectDerivations(e, v, autoArgs); err == nil {
				if len(drvs) == 0 {
					return nil, c.errorf("attribute path '%s' does not lead to any derivation", r.attr)
				}
				for _, d := range drvs {
					out = append(out, realised{req: i, drvPath: d.drvPath, output: d.output})
					targets = append(targets, build.Target{DrvPath: d.drvPath, Outputs: []string{d.output}})
				}
			}
		}
		if err != nil {
			fmt.Fprint(c.stderr, e.Render(err))
			return nil, 1
		}
	}
	// The outputs are temporary roots from before the build, so that a
	// collection cannot take those that are valid already.
	for i := range out {
		drv, err := s.ls.ReadDerivation(out[i].drvPath)
		if err != nil {
			return nil, c.errorf("%v", err)
		}
		out[i].drvName = drv.Name
		if o, ok := drv.Outputs[out[i].output]; ok && o.Path != "" {
			if err := s.ls.AddTempRoot(o.Path); err != nil {
				return nil, c.errorf("%v", err)
			}
		}
	}
	results, err := s.b.Build(s.ctx, targets)
	s.rep.close()
	if err != nil {
		return nil, s.reportBuildError(err)
	}
	for i := range out {
		out[i].path = results[i][out[i].output]
	}
	return out, 0
}

// reportBuildError reports the error of Builder.Build as nixl build
// does and returns the exit code.
func (s *realiseSession) reportBuildError(err error) int {
	return s.c.reportBuildError(s.ctx, err)
}

// reportBuildError reports an error of Builder.Build, one line per failed
// derivation, and returns the exit code.
func (c *cli) reportBuildError(ctx context.Context, err error) int {
	if ctx.Err() != nil {
		return c.errorf("interrupted by the user")
	}
	var be *build.Error
	if errors.As(err, &be) {
		for _, fe := range be.Failures {
			fmt.Fprintf(c.stderr, "error: %v\n", fe)
		}
		if len(be.Failures) > 1 {
			fmt.Fprintf(c.stderr, "error: %v\n", be)
		}
		return 1
	}
	return c.errorf("%v", err)
}

// absSource is the source file recorded for a request's file argument.
func absSource(file string) string {
	if file == "" || file == "-" {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return file
	}
	return abs
}
