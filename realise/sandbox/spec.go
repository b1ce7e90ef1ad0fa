package sandbox

import (
	"encoding/json"
	"os"
)

// InitArg is the hidden first argument with which the sandboxed child
// re-executes the running binary (see MaybeInit).
const InitArg = "__sandbox-init"

// Mount is a bind mount of a host file or directory into the sandbox.
type Mount struct {
	// Source is the host path (symlinks are followed).
	Source string `json:"source"`
	// Target is the path inside the sandbox.
	Target string `json:"target"`
	// Writable mounts read-write; mounts are read-only otherwise.
	Writable bool `json:"writable,omitempty"`
	// Optional mounts are skipped when the source does not exist.
	Optional bool `json:"optional,omitempty"`
	// MergeRootFS, with Spec.RootFS, makes the entries that Spec.RootFS
	// has at Target and the mounted directory lacks visible in it,
	// bind-mounted read-only (mount points are created in the source
	// directory): an image's own store paths stay visible beside the
	// build's store directory.
	MergeRootFS bool `json:"mergeRootFS,omitempty"`
}

// Spec describes one sandboxed process.
type Spec struct {
	// Root is a host directory that becomes the sandbox's "/". The caller
	// creates it and whatever files it wants there (etc/passwd…); the
	// sandbox adds the mount points. With RootFS, Root only holds files
	// laid over RootFS (see RootFS).
	Root string `json:"root"`
	// RootFS, when set, is a host directory holding a root file system
	// (an unpacked image, a store path) that the sandbox shows as "/",
	// read-only: a tmpfs is mounted on Root (whose own entries stay
	// readable through a descriptor opened before) and filled with
	// read-only bind mounts of RootFS's entries, and of Root's entries,
	// which win; directories both have, and the directories on the way
	// to a mount's target, are real directories of the tmpfs merging
	// their entries. /dev and /proc are the sandbox's own, never
	// RootFS's. Mount sources must not lie inside Root. Once everything
	// is mounted the tmpfs is made read-only, so only writable mounts
	// can be written to.
	RootFS string `json:"rootFS,omitempty"`
	// Mounts are bind-mounted in order, after /dev and /proc.
	Mounts []Mount `json:"mounts"`
	// Builder is the program to run (a path inside the sandbox), with
	// Args (argv[1:]) and Env ("NAME=value").
	Builder string   `json:"builder"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	// Dir is the working directory inside the sandbox.
	Dir string `json:"dir"`
	// UID and GID are the builder's ids inside the sandbox (Nix: 1000 and
	// 100); the invoking user's ids are mapped to them.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Hostname of the sandbox's UTS namespace.
	Hostname string `json:"hostname"`
	// Network shares the host's network namespace (fixed-output
	// derivations); otherwise the sandbox has only a loopback interface.
	Network bool `json:"network,omitempty"`
	// DevShmSize is the size option of the tmpfs on /dev/shm ("50%").
	DevShmSize string `json:"devShmSize,omitempty"`
}

func writeSpec(path string, spec *Spec) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func readSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}
