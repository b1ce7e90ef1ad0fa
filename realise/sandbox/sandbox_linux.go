package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Supported reports whether this platform has a sandbox implementation.
const Supported = true

// statusFD is the descriptor on which the child reports a setup failure;
// it is close-on-exec, so the parent reads EOF once the builder runs.
const statusFD = 3

// capabilities the child keeps (as ambient capabilities, inside its own
// user namespace only) until it execs the builder.
var capabilities = []uintptr{
	unix.CAP_SYS_ADMIN, unix.CAP_SYS_CHROOT, unix.CAP_NET_ADMIN,
	unix.CAP_DAC_OVERRIDE, unix.CAP_FOWNER, unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_CHOWN,
}

// Process is a running sandboxed builder.
type Process struct {
	cmd    *exec.Cmd
	status *os.File
	msg    chan string
}

// Start runs spec's builder in a new sandbox, with stdout and stderr
// connected to out (stdin is /dev/null). specFile is where the spec is
// written for the child; it must be outside spec.Root.
func Start(spec *Spec, specFile string, out io.Writer) (*Process, error) {
	if err := writeSpec(specFile, spec); err != nil {
		return nil, err
	}
	return start([]string{InitArg, specFile}, spec.UID, spec.GID, spec.Network, out)
}

// start runs the sandbox in two stages. Go forks a process whose clone
// creates a user namespace with a full fork (not vfork), copying the page
// tables of the whole address space, which costs tens of milliseconds for
// a large process such as an evaluator. So the parent only vforks a small
// helper (stage 1, "InitArg --spawn"), and the helper clones the
// namespaced init (stage 2) from its own tiny address space, passes its
// output and status descriptors on, and exits as the builder does.
func start(args []string, uid, gid int, network bool, out io.Writer) (*Process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	net := "0"
	if network {
		net = "1"
	}
	spawn := append([]string{InitArg, "--spawn", strconv.Itoa(uid), strconv.Itoa(gid), net}, args...)
	cmd := exec.Command("/proc/self/exe", spawn...)
	cmd.Args[0] = "nixl-sandbox"
	cmd.Env = []string{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	p := &Process{cmd: cmd, status: r, msg: make(chan string, 1)}
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		p.msg <- string(b)
	}()
	return p, nil
}

// spawnNamespaced is stage 1: it starts the init process in its new
// namespaces, with this process's stdout, stderr and status descriptor,
// and exits with its status.
func spawnNamespaced(args []string) error {
	if len(args) < 4 {
		return errors.New("bad --spawn arguments")
	}
	uid, err1 := strconv.Atoi(args[0])
	gid, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil {
		return errors.New("bad --spawn ids")
	}
	flags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)
	if args[2] != "1" {
		flags |= unix.CLONE_NEWNET
	}
	status := os.NewFile(statusFD, "status")
	cmd := exec.Command("/proc/self/exe", args[3:]...)
	cmd.Args[0] = "nixl-sandbox-init"
	cmd.Env = []string{}
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{status}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 flags,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: uid, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: gid, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		AmbientCaps:                capabilities,
		Pdeathsig:                  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return describeStartError(err)
	}
	// Only the init's copy of the status pipe remains: it closes on exec.
	status.Close()
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			signal.Reset(ws.Signal())
			syscall.Kill(os.Getpid(), ws.Signal())
		}
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
	return nil
}

func describeStartError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS) {
		return &UnavailableError{Reason: fmt.Sprintf("cannot create namespaces: %v", err)}
	}
	return err
}

// Pid is the process id of the sandbox (on the host).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill kills the sandbox; as the builder is the init process of its pid
// namespace, everything it started dies with it.
func (p *Process) Kill() error { return p.cmd.Process.Kill() }

// Wait waits for the builder to exit. A failure to set up the sandbox is
// returned as a *SetupError; a builder that ran and failed as an
// *exec.ExitError.
func (p *Process) Wait() error {
	err := p.cmd.Wait()
	if msg := <-p.msg; msg != "" {
		return &SetupError{Msg: msg}
	}
	return err
}

// SetupError is a failure of the sandbox's preparation, before the
// builder started.
type SetupError struct{ Msg string }

func (e *SetupError) Error() string { return "setting up the build sandbox: " + e.Msg }

// UnavailableError says that the kernel does not let nixl create a
// sandbox.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string {
	return "sandboxing is not available on this system (" + e.Reason + "); unprivileged user namespaces must be enabled (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, and no AppArmor restriction), or build with --sandbox=off"
}

var (
	probeOnce sync.Once
	probeErr  error
)

// Check reports whether sandboxes can be created here, by starting a
// trivial one once per process.
func Check() error {
	probeOnce.Do(func() {
		var out strings.Builder
		p, err := start([]string{InitArg, "--probe"}, 1000, 100, false, &out)
		if err != nil {
			probeErr = err
			return
		}
		if err := p.Wait(); err != nil {
			probeErr = &UnavailableError{Reason: strings.TrimSpace(err.Error() + " " + out.String())}
		}
	})
	return probeErr
}

// MaybeInit runs the sandbox's init when the process was started as one
// (os.Args[1] is InitArg) and never returns in that case. Binaries that
// start sandboxes call it first thing: cmd/nixl from an init function,
// test binaries from TestMain.
func MaybeInit() {
	if len(os.Args) < 2 || os.Args[1] != InitArg {
		return
	}
	unix.CloseOnExec(statusFD)
	fail := func(err error) {
		status := os.NewFile(statusFD, "status")
		fmt.Fprintf(status, "%v", err)
		os.Exit(1)
	}
	if len(os.Args) > 2 && os.Args[2] == "--spawn" {
		fail(spawnNamespaced(os.Args[3:]))
	}
	if len(os.Args) == 3 && os.Args[2] == "--probe" {
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			fail(fmt.Errorf("making mounts private: %w", err))
		}
		os.Exit(0)
	}
	if len(os.Args) != 3 {
		fail(errors.New("usage: " + InitArg + " SPEC"))
	}
	spec, err := readSpec(os.Args[2])
	if err != nil {
		fail(err)
	}
	fail(initSandbox(spec))
}

// initSandbox runs in the child, in its new namespaces, as spec.UID with
// the ambient capabilities: it builds the file system, enters it, drops
// the capabilities and execs the builder. It returns only on failure.
func initSandbox(spec *Spec) error {
	unix.Umask(0o022)
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	root := spec.Root
	if spec.RootFS != "" {
		if err := mountRootFS(spec); err != nil {
			return err
		}
	} else if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting the root '%s': %w", root, err)
	}
	if err := setupDev(root, spec.DevShmSize); err != nil {
		return err
	}
	proc := filepath.Join(root, "proc")
	if err := os.MkdirAll(proc, 0o555); err != nil {
		return err
	}
	if err := unix.Mount("none", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	if err := protectProc(proc); err != nil {
		return err
	}
	for _, m := range spec.Mounts {
		if err := bindMount(root, m); err != nil {
			return err
		}
		if m.MergeRootFS && spec.RootFS != "" {
			if err := mergeRootFS(root, spec.RootFS, m); err != nil {
				return err
			}
		}
	}
	if spec.RootFS != "" {
		if err := finishRootFS(root); err != nil {
			return err
		}
	}
	if !spec.Network {
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("setting up the loopback interface: %w", err)
		}
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("setting the host name: %w", err)
		}
		unix.Setdomainname([]byte("(none)"))
	}
	// Enter the new root: pivot_root(".", ".") stacks the old root on top
	// of the new one, and detaching it leaves only the new root.
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	if err := unix.Chdir(spec.Dir); err != nil {
		return fmt.Errorf("changing to the build directory '%s': %w", spec.Dir, err)
	}
	// Drop the capabilities: without ambient capabilities, a process that
	// is not root in its namespace loses all of them on execve.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	argv := append([]string{filepath.Base(spec.Builder)}, spec.Args...)
	err := unix.Exec(spec.Builder, argv, spec.Env)
	return fmt.Errorf("executing '%s': %w", spec.Builder, err)
}

// setupDev creates a minimal /dev: the harmless device nodes bound from
// the host, a private /dev/shm and /dev/pts, and the usual symlinks.
func setupDev(root, shmSize string) error {
	dev := filepath.Join(root, "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		m := Mount{Source: "/dev/" + name, Target: "/dev/" + name, Writable: true, Optional: name == "tty"}
		if err := bindMount(root, m); err != nil {
			return err
		}
	}
	shm := filepath.Join(dev, "shm")
	if err := os.MkdirAll(shm, 0o1777); err != nil {
		return err
	}
	opts := "mode=1777"
	if shmSize != "" {
		opts += ",size=" + shmSize
	}
	if err := unix.Mount("none", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mounting /dev/shm: %w", err)
	}
	pts := filepath.Join(dev, "pts")
	if err := os.MkdirAll(pts, 0o755); err != nil {
		return err
	}
	// /dev/pts is optional: some kernels refuse devpts in a user namespace.
	if err := unix.Mount("none", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,mode=0620,ptmxmode=0666"); err == nil {
		os.Symlink("/dev/pts/ptmx", filepath.Join(dev, "ptmx"))
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

// bindMount mounts m below root, creating the mount point, and makes it
// read-only unless it is writable.
func bindMount(root string, m Mount) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		if m.Optional && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("sandbox path '%s': %w", m.Source, err)
	}
	target := filepath.Join(root, m.Target)
	if st.IsDir() {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o444)
			if err != nil {
				return err
			}
			f.Close()
		}
	}
	if err := unix.Mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if m.Optional {
			return nil
		}
		return fmt.Errorf("bind-mounting '%s' at '%s': %w", m.Source, m.Target, err)
	}
	if m.Writable {
		return nil
	}
	if err := remountReadOnly(target); err != nil {
		return fmt.Errorf("making '%s' read-only: %w", m.Target, err)
	}
	return nil
}

// remountReadOnly makes the bind mount at target read-only.
func remountReadOnly(target string) error {
	// A read-only remount must keep the flags the kernel locked on the
	// source mount (nosuid, nodev…), or a user namespace may not do it.
	var fs unix.Statfs_t
	if err := unix.Statfs(target, &fs); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for st, ms := range map[int64]uintptr{
		unix.ST_NOSUID: unix.MS_NOSUID, unix.ST_NODEV: unix.MS_NODEV, unix.ST_NOEXEC: unix.MS_NOEXEC,
		unix.ST_NOATIME: unix.MS_NOATIME, unix.ST_NODIRATIME: unix.MS_NODIRATIME, unix.ST_RELATIME: unix.MS_RELATIME,
	} {
		if fs.Flags&st != 0 {
			flags |= ms
		}
	}
	return unix.Mount("", target, "", flags, "")
}

// loopbackUp brings up "lo" in the new network namespace, so that builds
// can talk to themselves (and to nothing else).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
