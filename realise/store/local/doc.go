// Package local implements a local Nix store: a store directory holding
// the paths, and a state directory holding an SQLite database of which
// paths are valid, locks, and garbage collector roots. It is the store
// nixl adds sources, texts and derivations to and that builds write their
// outputs into. Store paths and NAR hashes are those of C++ Nix for the
// same store directory (they are computed with package store), and the
// database schema is Nix's.
//
// # Location
//
// By default the store is per user and needs neither root nor a daemon:
// $XDG_DATA_HOME/nixl/store (~/.local/share/nixl/store) with its state in
// $XDG_DATA_HOME/nixl/var; NIXL_STORE_DIR and NIXL_STATE_DIR (or
// [Options]) choose others. Open refuses to write into a store that is not
// its own: a store directory next to a Nix database (/nix/store with
// /nix/var/nix/db), a state directory holding a Nix database, a non-empty
// directory without nixl's marker, a store that belongs to another state
// directory, and a database nixl did not create (PRAGMA application_id).
//
// # Layout
//
//	<store>/<hash>-<name>          valid paths (and, briefly, paths being added)
//	<store>/.nixl-store            marker: the state directory owning the store
//	<store>/.nixl-tmp/<pid>-<rnd>/ private directory of one addition in progress
//	<state>/db/db.sqlite           the database (WAL mode: also -wal, -shm)
//	<state>/db/open.lock           serialises opening (and creating) the database
//	<state>/gc.lock                the GC lock
//	<state>/locks/<base>.lock      per-path locks, present only while held
//	<state>/temproots/<pid>-<rnd>  temporary roots of one open Store
//	<state>/gcroots/               roots: symlinks into the store, any depth
//	<state>/gcroots/auto/<sha1>    indirect roots: symlinks to links elsewhere
//	<state>/profiles/              roots too (for profiles, later)
//
// # Database
//
// Nix's schema version 10 (see the schema constant): ValidPaths (id, path,
// hash "sha256:<base16>" of the NAR, registrationTime, deriver, narSize,
// ultimate, sigs, ca), Refs (referrer, reference; deleting a path that is
// still referred to is refused by a foreign key, self-references are
// dropped by a trigger) and DerivationOutputs (drv, output name, path),
// filled when a .drv is registered. Connections use WAL journaling,
// synchronous=NORMAL, foreign keys, a one-minute busy timeout, and BEGIN
// IMMEDIATE for write transactions, so any number of processes can use the
// database at once without lock-upgrade deadlocks.
//
// # Locking
//
// All locks are flock(2) locks, which the kernel releases when their
// holder dies, however it dies.
//
//   - The GC lock is held shared by everything that creates files in the
//     store or records temporary roots, and exclusively by the garbage
//     collector and by the clean-up of temporary directories. Within a
//     process a sync.RWMutex stands in front of it, since flock does not
//     exclude two holders sharing one file description.
//   - A path lock (<state>/locks/<base>.lock) is held while its path is
//     created or deleted. Whoever holds it may remove an invalid object at
//     that name. Lock files are deleted on release; to stop a process that
//     opened the file just before deletion from locking an orphan, the
//     releaser first writes a byte into it, and a locker that finds its
//     file non-empty starts again (Nix's protocol). Several paths are
//     locked in sorted order.
//   - Each Store that records a temporary root creates its own file in
//     <state>/temproots, under the shared GC lock, and holds a shared lock
//     on it until Close; the collector knows a file belongs to a dead
//     process when it can lock it exclusively, and deletes it. Roots are
//     appended (NUL-terminated) only under the shared GC lock, so the
//     collector, which holds it exclusively, always reads complete files.
//
// # Adding a path
//
// AddPath copies the source, through the NAR serialisation with the
// caller's filter, into a private directory under <store>/.nixl-tmp while
// hashing the NAR, so the hash is that of exactly what was copied. With
// the store path known it records a temporary root, takes the path lock,
// and returns at once if the path is valid (adding is idempotent).
// Otherwise it removes whatever invalid object has the final name,
// canonicalises the copy (mtime 1, modes 0444/0555, no setuid, setgid,
// sticky bits or extended attributes; ownership unchanged), syncs it
// (syncfs on Linux), renames it into place, syncs the store directory and
// registers the path and its references in one transaction. AddText
// computes the path first and writes the file only when it is not valid.
//
// # Crash safety
//
// A path becomes valid only by the commit of its registration, after its
// contents are complete and durable; a crash at any earlier point leaves
// no valid path. What it can leave, and who removes it:
//
//   - a temporary directory in .nixl-tmp: removed by the next Open that can
//     take the GC lock exclusively (no addition in progress), or by GC;
//   - an unregistered object at the final name, and the path's lock file
//     (the lock file exists from before the rename until after the commit):
//     the next Open finds lock files nobody holds, and removes the object
//     of each unless its path is valid;
//   - the temporary-roots file of the dead process: deleted by the next
//     collector or Open that takes the GC lock exclusively.
//
// Deleting works the other way round: the path is invalidated (its row
// deleted) under its path lock before its files are removed, so a crash
// leaves an invalid, partly deleted object and a lock file, cleaned as
// above. Garbage collection also removes every invalid object in the store
// directory that nobody holds the lock of and that is no temporary root.
//
// # Faults and repair
//
// A write the file system refuses (no space, a quota or file size limit,
// a read-only file system, permissions) comes back as a *WriteError
// naming the store or state directory rather than a temporary file; the
// addition's temporary directory is removed and nothing is registered.
// ReplaceValidPath repairs a valid path whose contents were modified or
// lost: a complete tree prepared next to the store (a rebuilt output, a
// substituted NAR) is swapped in with one atomic rename
// (RENAME_EXCHANGE) and the path's registration updated, the path staying
// valid throughout.
//
// # Garbage collection
//
// GC takes the GC lock exclusively, so nothing is added meanwhile and no
// process can record a new temporary root until it ends. The roots are
// the symlinks below <state>/gcroots and <state>/profiles that point into
// the store, the targets of indirect roots (a symlink elsewhere, such as a
// 'result' link, registered in gcroots/auto; stale ones are removed), and
// the temporary roots of live processes. The live set is their closure
// over references, plus the derivers of live paths (unless
// DiscardDerivations, as Nix's keep-derivations) and, with KeepOutputs,
// the outputs of live derivations. Every other valid path is dead; since
// a referrer of a dead path is dead too, the dead paths are deleted in
// topological order, referrers first (paths on a reference cycle
// together), each invalidated before its files are removed, stopping once
// maxFreed bytes are freed. DeletePaths deletes given paths the same way
// and refuses paths that are alive or referred to by paths not deleted
// with them.
package local
