// Package sandbox runs a builder isolated from the host, as Nix's Linux
// sandbox does, without root and without a daemon.
//
// # Namespaces
//
// Start clones a child in new user, mount, pid, network (unless the spec
// shares the host network, for fixed-output derivations), ipc and uts
// namespaces. The invoking user's uid and gid are mapped to the builder's
// ids inside (Nix's nixbld: 1000 and 100), so the same code works for root
// and for ordinary users, and files the builder creates belong to the
// invoking user on the host. Go cannot run code between clone and exec,
// so the child re-executes the running binary (/proc/self/exe) with the
// hidden first argument InitArg; MaybeInit, called first thing by every
// binary that starts sandboxes (cmd/nixl from an init function, test
// binaries from TestMain), recognises it and becomes the sandbox's init.
// The child keeps, across that exec, a few capabilities of its own user
// namespace as ambient capabilities (it is not root inside). Go clones a
// process that gets a new user namespace with a full fork rather than a
// vfork, copying the page tables of the whole parent (an evaluator can be
// large), so the parent first starts a small helper ("InitArg --spawn",
// by vfork), which clones the namespaced init from its own small address
// space, hands it its output and status descriptors, and exits with the
// builder's status (re-raising its signal).
//
// # Layout
//
// The init process makes every mount private, bind-mounts Spec.Root on
// itself and builds the file system in it:
//
//	/dev          null zero full random urandom tty bound from the host,
//	              a private tmpfs /dev/shm, a new devpts instance on
//	              /dev/pts (when the kernel allows), fd, stdin, stdout,
//	              stderr symlinks
//	/proc         a new proc for the new pid namespace; sys, sysrq-trigger,
//	              irq, bus and fs read-only (global kernel settings, which
//	              the builder, whose uid is the invoking user's, could
//	              otherwise write when nixl runs as root)
//	Spec.Mounts   bind mounts, read-only unless Writable: the input
//	              closure's store paths, the build directory (at /build),
//	              the sandbox paths (/bin/sh…)
//	/etc          whatever the caller wrote into Root (passwd, group,
//	              hosts)
//
// then brings up the loopback interface of its empty network namespace,
// sets the host name, enters the new root with pivot_root(".", ".") and
// detaches the old one, changes to Spec.Dir, clears its ambient
// capabilities (so the builder, not root inside, has none after exec), and
// execs the builder, which becomes pid 1 of its namespace: when it exits,
// the kernel kills everything it started. The parent death signal is
// SIGKILL, so killing nixl kills the sandbox too.
//
// A failure before the exec is reported on a close-on-exec pipe (fd 3),
// so Wait tells a setup failure (*SetupError) from a builder that ran and
// failed (*exec.ExitError). Check probes once whether sandboxes can be
// created at all, for a clear message (*UnavailableError) where user
// namespaces are disabled.
//
// # Root file systems
//
// With Spec.RootFS (a derivation's sandboxRoot, see package
// realise/build), "/" is not the caller's directory but a root file
// system, such as an unpacked image: the init opens Root, mounts a tmpfs
// on it and fills it with read-only bind mounts of RootFS's top-level
// entries (symbolic links are copied, and resolve inside the sandbox),
// with Root's entries (the /etc files the caller wrote, read through the
// descriptor) winning over RootFS's. Directories that both have, and
// the directories on the way to a mount target (the store directory's
// parents), are real directories of the tmpfs that merge their entries
// the same way; an entry at a mount target is left for the mount. /dev
// and /proc are the sandbox's own, as above, never the image's. A mount
// with MergeRootFS (the store directory) shows the entries RootFS has at
// its target beside its own, read-only, so an image's own store paths
// stay visible. Once all mounts are made the tmpfs is remounted
// read-only: the builder can write only to writable mounts (the build
// directory, the store directory where it creates its outputs, /dev/shm),
// and it sees nothing of the host but the mounts.
//
// # Sandbox paths
//
// PathMounts turns Nix's sandbox-paths entries into mounts, adding for a
// dynamically linked ELF file its interpreter and the libraries it needs,
// found with debug/elf as the dynamic loader would find them (RPATH and
// RUNPATH, /etc/ld.so.conf, the default directories). DefaultPaths
// provides /bin/sh: the host's if it is static, else a static busybox if
// there is one (its shell runs its applets, mkdir, cp…, without a PATH),
// else the host's dynamically linked one with its libraries.
package sandbox
