package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nixl-project/nixl/nixhash"
	"github.com/nixl-project/nixl/realise/derivation"
	"github.com/nixl-project/nixl/realise/sandbox"
	"github.com/nixl-project/nixl/realise/store"
	"github.com/nixl-project/nixl/realise/store/local"
)

// sandboxBuildDir is where the build directory appears in the sandbox
// (Nix's sandbox-build-dir).
const sandboxBuildDir = "/build"

// Nix's build user inside the sandbox.
const (
	sandboxUID = 1000
	sandboxGID = 100
)

// scratchPath is the private directory of one build of drvPath: a
// store-path-shaped name in the store directory, so that it is on the
// outputs' file system (they are renamed out of it), protected by its path
// lock while the build runs, and deleted by the store's recovery (a lock
// file nobody holds) or the garbage collector otherwise.
func (b *Builder) scratchPath(drvPath string) (string, error) {
	sp, err := b.dir.ParseExactPath(drvPath)
	if err != nil {
		return "", err
	}
	return filepath.Join(string(b.dir), sp.HashPart()+"-build"), nil
}

// buildNode builds one derivation, from taking its locks to registering
// its outputs.
func (b *Builder) buildNode(ctx context.Context, n *node) (err error) {
	drv, drvPath := n.drv, n.drvPath
	rep := b.reporter()
	if err := b.checkPlatform(drvPath, drv); err != nil {
		rep.Finished(drvPath, err)
		return err
	}
	typ, err := drv.Type()
	if err != nil {
		return err
	}
	if typ != derivation.TypeInputAddressed && typ != derivation.TypeFixedOutput {
		err := fmt.Errorf("cannot build '%s': %s derivations are not supported", drvPath, typ)
		rep.Finished(drvPath, err)
		return err
	}
	scratch, err := b.scratchPath(drvPath)
	if err != nil {
		return err
	}
	outNames := drv.OutputNames()
	outPaths := map[string]string{}
	var lockSet []string
	for _, name := range outNames {
		outPaths[name] = drv.Outputs[name].Path
		lockSet = append(lockSet, drv.Outputs[name].Path)
		if err := b.store.AddTempRoot(drv.Outputs[name].Path); err != nil {
			return err
		}
	}
	lockSet = append(lockSet, scratch)
	unlock, err := b.lock(ctx, lockSet)
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have built it while we waited for the locks.
	valid := map[string]bool{}
	allValid := true
	for _, name := range outNames {
		ok, err := b.store.IsValidPath(outPaths[name])
		if err != nil {
			return err
		}
		valid[name] = ok
		allValid = allValid && ok
	}
	if allValid && !n.check {
		return nil
	}
	if n.check && !allValid {
		return fmt.Errorf("some outputs of '%s' are not valid, so checking is not possible", drvPath)
	}

	rep.Started(drvPath)
	defer func() { rep.Finished(drvPath, err) }()

	inputs, err := b.inputClosure(drv)
	if err != nil {
		return err
	}
	if _, err := removeAll(scratch); err != nil {
		return err
	}
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return b.store.WriteError(err)
	}
	keep := false
	defer func() {
		if !keep {
			removeAll(scratch)
		}
	}()

	builtin := strings.HasPrefix(drv.Builder, "builtin:")
	sandboxed := b.opts.Sandbox == SandboxOn && !builtin
	if n.check && !sandboxed && !builtin {
		return fmt.Errorf("cannot check '%s' without the sandbox: the new build would overwrite the valid outputs", drvPath)
	}
	rootFS, err := b.sandboxRoot(drvPath, drv, inputs)
	if err != nil {
		return err
	}
	if rootFS != "" && builtin {
		return &Failure{DrvPath: drvPath, Msg: fmt.Sprintf("cannot build '%s': a builtin builder does not run in a sandboxRoot", drvPath)}
	}
	if rootFS != "" && !sandboxed {
		return &Failure{DrvPath: drvPath, Msg: fmt.Sprintf("cannot build '%s' without the sandbox: it runs in a root file system of its own (sandboxRoot)", drvPath)}
	}
	top := filepath.Join(scratch, "top")
	if err := os.Mkdir(top, 0o700); err != nil {
		return err
	}
	root := filepath.Join(scratch, "root")
	// Where each output is produced: in the sandbox's store directory
	// (and builtin builders' staging area), or at its final path when
	// building without a sandbox.
	produced := map[string]string{}
	for _, name := range outNames {
		if sandboxed || builtin {
			produced[name] = filepath.Join(root, outPaths[name])
		} else {
			produced[name] = outPaths[name]
			if !valid[name] {
				if _, err := removeAll(outPaths[name]); err != nil {
					return err
				}
			}
		}
	}
	if sandboxed || builtin {
		if err := os.MkdirAll(filepath.Join(root, string(b.dir)), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(root, string(b.dir)), 0o1775); err != nil {
			return err
		}
	}

	buildDirInside := top
	if sandboxed {
		buildDirInside = sandboxBuildDir
	}
	env, err := b.builderEnv(drv, typ == derivation.TypeFixedOutput, top, buildDirInside, inputs)
	if err != nil {
		return err
	}

	logFile, err := b.openLog(drvPath)
	if err != nil {
		return err
	}
	lw := newLogWriter(logFile, b.opts.LogLines, func(line string) { rep.Line(drvPath, line) })
	runErr := b.runBuilder(ctx, drvPath, drv, typ, sandboxed, builtin, scratch, root, top, rootFS, env, produced, inputs, lw)
	lw.Flush()
	logFile.Close()
	if runErr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		keep = b.opts.KeepFailed
		msg := runErr.Error()
		var exit *exec.ExitError
		if errors.As(runErr, &exit) {
			msg = fmt.Sprintf("builder for '%s' %s", drvPath, describeExit(exit))
			if lines := lw.Last(); len(lines) > 0 {
				msg += fmt.Sprintf(";\nlast %d log lines:", len(lines))
				for _, l := range lines {
					msg += "\n> " + l
				}
				msg += fmt.Sprintf("\nFor full logs, run 'nixl log %s'.", drvPath)
			}
		}
		if keep {
			msg += fmt.Sprintf("\nnote: keeping build directory '%s'", top)
		}
		if !sandboxed && !builtin && !keep {
			for _, name := range outNames {
				if !valid[name] {
					removeAll(outPaths[name])
				}
			}
		}
		return &Failure{DrvPath: drvPath, Msg: msg}
	}
	if err := b.finishOutputs(drvPath, drv, typ, n.check, outNames, outPaths, produced, valid, inputs); err != nil {
		if b.opts.KeepFailed {
			keep = true
		}
		if !sandboxed && !builtin {
			for _, name := range outNames {
				if !valid[name] {
					removeAll(outPaths[name])
				}
			}
		}
		return &Failure{DrvPath: drvPath, Msg: err.Error()}
	}
	return nil
}

func describeExit(exit *exec.ExitError) string {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("failed due to signal %d (%s)", int(ws.Signal()), upperFirst(ws.Signal().String()))
	}
	return fmt.Sprintf("failed with exit code %d", exit.ExitCode())
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lock takes the store locks of paths, giving up when ctx is cancelled
// (the locks, when they come, are then released at once).
func (b *Builder) lock(ctx context.Context, paths []string) (func(), error) {
	type result struct {
		unlock func()
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := b.store.LockPaths(paths)
		ch <- result{u, err}
	}()
	select {
	case r := <-ch:
		return r.unlock, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				r.unlock()
			}
		}()
		return nil, ctx.Err()
	}
}

// checkPlatform refuses derivations for a system this machine cannot run.
func (b *Builder) checkPlatform(drvPath string, drv *derivation.Derivation) error {
	if strings.HasPrefix(drv.Builder, "builtin:") || drv.Platform == b.opts.System || slices.Contains(b.opts.ExtraPlatforms, drv.Platform) {
		return nil
	}
	features := strings.Join(strings.Fields(drv.Env["requiredSystemFeatures"]), ", ")
	return &Failure{DrvPath: drvPath, Msg: fmt.Sprintf("a '%s' with features {%s} is required to build '%s', but I am a '%s' with features {} (extra platforms: {%s})",
		drv.Platform, features, drvPath, b.opts.System, strings.Join(b.opts.ExtraPlatforms, ", "))}
}

// inputClosure is the closure of the derivation's input sources and of the
// outputs it uses from its input derivations: what the builder may see.
func (b *Builder) inputClosure(drv *derivation.Derivation) ([]string, error) {
	roots := slices.Clone(drv.InputSrcs)
	for in, outs := range drv.InputDrvs {
		known, err := b.store.QueryDerivationOutputs(in)
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			p, ok := known[o]
			if !ok {
				return nil, fmt.Errorf("input derivation '%s' has no output '%s'", in, o)
			}
			roots = append(roots, p)
		}
	}
	for _, p := range roots {
		if err := b.store.AddTempRoot(p); err != nil {
			return nil, err
		}
	}
	closure, err := b.store.Closure(roots)
	if err != nil {
		var inv *local.InvalidPathError
		if errors.As(err, &inv) {
			return nil, fmt.Errorf("input '%s' is not valid; was its derivation built?", inv.Path)
		}
		return nil, err
	}
	return closure, nil
}

// runBuilder runs the builder: a builtin one in process, the others in
// the sandbox or directly.
func (b *Builder) runBuilder(ctx context.Context, drvPath string, drv *derivation.Derivation, typ derivation.Type, sandboxed, builtin bool,
	scratch, root, top, rootFS string, env map[string]string, produced map[string]string, inputs []string, lw *logWriter) error {
	if builtin {
		return b.runBuiltin(ctx, drv, env, top, produced, lw)
	}
	envList := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		envList = append(envList, k+"="+env[k])
	}
	if !sandboxed {
		cmd := exec.Command(drv.Builder, drv.Args...)
		cmd.Args[0] = filepath.Base(drv.Builder)
		cmd.Env = envList
		cmd.Dir = top
		cmd.Stdout = lw
		cmd.Stderr = lw
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("while setting up the build environment: executing '%s': %w", drv.Builder, unwrapExec(err))
		}
		stop := context.AfterFunc(ctx, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		err := cmd.Wait()
		stop()
		// Kill what the builder left running in its process group.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return err
	}
	spec, err := b.sandboxSpec(drv, typ, root, top, envList, inputs)
	if err != nil {
		return err
	}
	if rootFS != "" {
		hostPaths, _ := b.sandboxMounts()
		if err := b.rootFSSpec(spec, rootFS, filepath.Join(scratch, "overlay"), hostPaths); err != nil {
			return err
		}
	}
	p, err := sandbox.Start(spec, filepath.Join(scratch, "sandbox.json"), lw)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { p.Kill() })
	err = p.Wait()
	stop()
	return err
}

func unwrapExec(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// finishOutputs checks what the builder produced and makes it valid:
// canonicalisation, reference scanning, hash checks of fixed outputs,
// the output checks, then the move into place and one registration.
func (b *Builder) finishOutputs(drvPath string, drv *derivation.Derivation, typ derivation.Type, check bool,
	outNames []string, outPaths, produced map[string]string, valid map[string]bool, inputs []string) error {
	// Candidates for references: the inputs and the outputs.
	candidates := map[string]string{}
	addCandidate := func(p string) {
		if sp, err := b.dir.ParsePath(p); err == nil {
			candidates[sp.HashPart()] = p
		}
	}
	for _, p := range inputs {
		addCandidate(p)
	}
	for _, p := range outPaths {
		addCandidate(p)
	}
	infos := map[string]*local.PathInfo{}
	for _, name := range outNames {
		path := produced[name]
		if _, err := os.Lstat(path); err != nil {
			return fmt.Errorf("builder for '%s' failed to produce output path for output '%s' at '%s'", drvPath, name, outPaths[name])
		}
		if err := local.Canonicalise(path); err != nil {
			return fmt.Errorf("canonicalising output '%s' of '%s': %w", name, drvPath, err)
		}
		info, err := scanOutput(path, candidates)
		if err != nil {
			return fmt.Errorf("scanning output '%s' of '%s': %w", name, drvPath, err)
		}
		info.Path = outPaths[name]
		info.Deriver = drvPath
		info.Ultimate = true
		if typ == derivation.TypeFixedOutput {
			ca, err := b.checkFixedOutput(drvPath, drv.Outputs[name], path, info)
			if err != nil {
				return err
			}
			info.CA = ca
		}
		infos[name] = info
	}
	if err := b.checkOutputs(drv, outNames, infos); err != nil {
		return err
	}
	if check && b.opts.Repair {
		return b.repairOutputs(drvPath, outNames, outPaths, produced, infos)
	}
	if check {
		return b.compareCheck(drvPath, outNames, outPaths, produced, infos)
	}
	var toRegister []*local.PathInfo
	for _, name := range outNames {
		if valid[name] {
			continue
		}
		if produced[name] != outPaths[name] {
			if _, err := removeAll(outPaths[name]); err != nil {
				return err
			}
			if err := local.MoveTree(produced[name], outPaths[name]); err != nil {
				return fmt.Errorf("moving output '%s' into the store: %w", outPaths[name], err)
			}
		}
		toRegister = append(toRegister, infos[name])
	}
	if len(toRegister) == 0 {
		return nil
	}
	if err := syncStore(string(b.dir)); err != nil {
		return err
	}
	return b.store.RegisterValidPaths(toRegister)
}

// checkFixedOutput verifies the content hash of a fixed output and
// returns its content address.
func (b *Builder) checkFixedOutput(drvPath string, o derivation.Output, path string, info *local.PathInfo) (string, error) {
	method, want, err := o.FixedHash()
	if err != nil {
		return "", err
	}
	var got nixhash.Hash
	switch method {
	case store.FlatMethod:
		st, err := os.Lstat(path)
		if err != nil {
			return "", err
		}
		if !st.Mode().IsRegular() || st.Mode()&0o100 != 0 {
			return "", fmt.Errorf("output path '%s' should be a non-executable regular file since recursive hashing is not enabled (outputHashMode=flat)", o.Path)
		}
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		got, _, err = nixhash.SumReader(want.Algorithm(), f)
		f.Close()
		if err != nil {
			return "", err
		}
	case store.RecursiveMethod:
		if want.Algorithm() == nixhash.SHA256 {
			got = info.NarHash
		} else if got, _, err = store.HashPath(want.Algorithm(), path, nil); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("fixed output '%s' has the unsupported method %s", o.Path, method)
	}
	if got.Encode(nixhash.Base16, false) != want.Encode(nixhash.Base16, false) {
		return "", fmt.Errorf("hash mismatch in fixed-output derivation '%s':\n  specified: %s\n     got:    %s", drvPath, want.SRI(), got.SRI())
	}
	if len(info.References) > 0 {
		return "", fmt.Errorf("illegal path references in fixed-output derivation '%s'", drvPath)
	}
	prefix := "fixed:"
	if method == store.RecursiveMethod {
		prefix += "r:"
	}
	return prefix + got.String(), nil
}

// removeAll deletes path, also when it contains read-only directories.
func removeAll(path string) (bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return true, os.RemoveAll(path)
}

// syncStore makes the outputs' contents and directory entries durable
// before they are registered.
func syncStore(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
