//go:build !linux

package sandbox

import (
	"io"
	"runtime"
)

// Supported reports whether this platform has a sandbox implementation.
const Supported = false

// Process is a running sandboxed builder (never, on this platform).
type Process struct{}

// UnavailableError says that this system cannot create a sandbox.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string {
	return "sandboxing is not available on this system (" + e.Reason + "); build with --sandbox=off"
}

// SetupError is a failure of the sandbox's preparation.
type SetupError struct{ Msg string }

func (e *SetupError) Error() string { return "setting up the build sandbox: " + e.Msg }

func unavailable() error {
	return &UnavailableError{Reason: "no sandbox implementation for " + runtime.GOOS}
}

// Check reports that sandboxes cannot be created here.
func Check() error { return unavailable() }

// Start fails: there is no sandbox on this platform.
func Start(spec *Spec, specFile string, out io.Writer) (*Process, error) { return nil, unavailable() }

func (p *Process) Pid() int    { return 0 }
func (p *Process) Kill() error { return nil }
func (p *Process) Wait() error { return unavailable() }

// MaybeInit does nothing on this platform.
func MaybeInit() {}
