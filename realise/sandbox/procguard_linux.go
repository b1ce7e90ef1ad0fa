package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// readOnlyProc are the parts of /proc through which a process changes
// the host's kernel rather than its own namespaces: the sysctls (most are
// global: kernel.core_pattern runs a program as root on the host), the
// magic SysRq key, interrupt affinities, bus devices, file system
// settings. They are bound read-only over themselves, as container
// runtimes do. This matters because the builder's uid is the invoking
// user's: when nixl runs as root, the builder is root on the host as far
// as file permissions go (not capabilities), and these files are root's
// and writable by their owner.
var readOnlyProc = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// protectProc makes the readOnlyProc entries of the /proc mounted at proc
// read-only. Entries this kernel does not have are skipped.
func protectProc(proc string) error {
	for _, name := range readOnlyProc {
		p := filepath.Join(proc, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("protecting /proc/%s: %w", name, err)
		}
		if err := remountReadOnly(p); err != nil {
			return fmt.Errorf("making /proc/%s read-only: %w", name, err)
		}
	}
	return nil
}
