// Package build is the realiser: it builds derivations into a local store
// (realise/store/local), sandboxed, in parallel, and never twice.
//
// # Scheduler
//
// Build first makes a plan: starting from the targets it reads each
// derivation and checks whether its outputs are valid. A derivation whose
// outputs are all valid is done, and its inputs are never looked at (so a
// no-op build of any graph costs a few database queries per target);
// otherwise it becomes a node of the plan and its input derivations are
// visited in turn. The scheduler then starts the nodes whose inputs are
// built, at most Options.Jobs at a time, each in a goroutine. When a
// build fails, the derivations depending on it are skipped; without
// KeepGoing the others are cancelled (their builders are killed) and
// nothing new starts. Failures come back as an *Error.
//
// # Substitution
//
// With Options.Substituter (realise/cache provides one,
// cache.Substituter.ForStore), Build first tries to fetch what is
// missing: from the targets down, one level of the graph at a time, it
// asks the substituter which missing outputs it can supply. A
// derivation whose missing outputs can all be fetched has them
// substituted, with their closures (downloads run in parallel; the
// substituter checks signatures and NAR hashes and registers nothing
// that fails), and its inputs are never looked at. The other
// derivations, and those whose substitution failed, are to be built, so
// their input derivations (and missing input sources) are asked about
// next. The plan is then made as usual and builds what is still
// missing. A Reporter that is also a SubstitutionReporter hears what is
// fetched, why paths cannot be, and which derivations fall back to
// building. Check never substitutes.
//
// # Locking
//
// Before building, a goroutine takes the store's path locks
// (local.Store.LockPaths, flock-based, taken in sorted order so that
// processes cannot deadlock) on every output path and on the build's
// scratch directory, and then checks again whether the outputs are valid:
// another process may have built them while it waited, and two nixl
// processes on one graph therefore build each derivation exactly once.
// The outputs and the input closure are temporary roots of the process,
// so a concurrent garbage collection keeps them. Locks are released when
// the build ends, and by the kernel if the process dies.
//
// # Atomicity and recovery
//
// Each build has a private scratch directory in the store directory,
// <store>/<hash of the .drv>-build, holding the build directory (top/),
// the sandbox's root (root/) and its spec. A sandboxed builder creates
// its outputs in the sandbox's own store directory, root/<store>/…; once
// the outputs are checked they are renamed to their final paths (the same
// file system), the store is synced and all outputs are registered in one
// transaction (local.Store.RegisterValidPaths, with NAR hash and size,
// references, deriver, and the content address of fixed outputs). Until
// that commit nothing is valid. If nixl is killed, the sandbox dies with
// it (parent death signal), and the lock files it left behind tell the
// next local.Open to delete the scratch directory and any unregistered
// object at an output path; a Ctrl-C cancels the builds and cleans up at
// once. Without the sandbox the builder writes its outputs at their final
// paths, under the same locks, as Nix does.
//
// # Builder environment
//
// builderEnv reproduces Nix's initEnv: the derivation's environment (or,
// with __structuredAttrs, .attrs.json and .attrs.sh in the build
// directory and NIX_ATTRS_JSON_FILE/NIX_ATTRS_SH_FILE), passAsFile
// attributes written to .attr-<hash> files (NAMEPath), PATH=/path-not-set,
// HOME=/homeless-shelter, NIX_STORE, NIX_BUILD_CORES, NIX_BUILD_TOP, TMPDIR,
// TEMPDIR, TMP, TEMP and PWD (the build directory, /build in the sandbox),
// NIX_LOG_FD=2, TERM=xterm-256color, and for fixed-output derivations
// NIX_OUTPUT_CHECKED and the impureEnvVars; exportReferencesGraph files.
// The sandbox (package sandbox) sees the input closure read-only, the
// build directory at /build, /etc/passwd, /etc/group and /etc/hosts
// written like Nix's, and the sandbox paths; fixed-output derivations
// share the host network. "builtin:…" builders (realise/builtinbuild) run
// in process for any system, their outputs staged like sandboxed ones. A
// derivation for a system that is neither Options.System nor among
// ExtraPlatforms fails before anything runs.
//
// # Root file systems
//
// A derivation may set sandboxRoot (an attribute, also in
// __structuredAttrs) to a directory in a store path of its input
// closure, below which no symbolic link is followed: a root file system,
// such as image.rootfs's output (an unpacked OCI image). The builder then
// runs in it (sandbox.Spec.RootFS): the tree is "/", read-only; the input
// closure is mounted in the store directory, which is writable for the
// outputs and also shows the store paths the image holds itself; the
// build directory is /build; /proc and a minimal /dev are the sandbox's
// own; /etc/passwd and /etc/group are Nix's, followed by the image's
// entries for other names, and /etc/hosts is Nix's (the image's other
// /etc files stay); the host's sandbox paths (its /bin/sh) are not
// mounted, so the builder, usually the image's /bin/sh, sees only the
// image, the closure and its outputs. Everything else is as for any
// sandboxed build: the environment, no network unless fixed-output, the
// output checks. The tree must be an input so that it is valid, kept
// from the garbage collector while the build runs, and part of what
// the output path is computed from. A sandboxRoot cannot be used without
// the sandbox or by a builtin builder: such builds fail before anything
// runs.
//
// # After the build
//
// Each output is canonicalised (local.Canonicalise), then serialised once
// as a NAR that is hashed and scanned for references at the same time:
// the scanner looks for the 32-character hash parts of the input
// closure's paths and of the outputs in the NAR stream, which holds file
// names, contents and symlink targets, skipping ahead past bytes that are
// not base-32 digits (Nix's RefScanSink). Fixed outputs have their hash
// checked (flat or recursive) and must not refer to anything; then
// allowedReferences, allowedRequisites, disallowedReferences and
// disallowedRequisites (or __structuredAttrs outputChecks, with maxSize
// and maxClosureSize) are enforced. With Check the outputs are valid
// already: the rebuilt ones are compared with them and any difference is
// reported file by file.
//
// # Repair
//
// With Options.Repair the targets are rebuilt like Check (in the sandbox,
// their missing inputs built first), and each valid output whose contents
// no longer match its registration is replaced by the rebuilt one
// (local.Store.ReplaceValidPath, repair.go); intact outputs are kept.
// This is what nixl store verify --repair does for a path whose
// derivation is in the store.
//
// # Logs
//
// The builder's output goes to <state>/log/drvs/<2 chars>/<rest of the
// .drv name> (LogPath), to the Reporter line by line, and into a buffer of
// the last LogLines lines that the failure message quotes, as Nix does.
package build
