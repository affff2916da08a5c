package proc

// This file is the reaper's side: the hidden mode of our own executable
// that StartReaped runs between us and the command. See Reaped for what it
// guarantees, reaperMain for how.

import (
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// init turns this process into the reaper, before main and before the
// init of any package that imports this one, when it was started by
// StartReaped: both markers must be there. Otherwise it does nothing.
func init() {
	if len(os.Args) > 2 && os.Args[1] == reaperArg {
		if v, ok := os.LookupEnv(reaperEnv); ok {
			os.Exit(reaperMain(v, os.Args[2], os.Args[3:]))
		}
	}
}

// killWait bounds how long the reaper keeps killing and reaping: a
// process that survives SIGKILL this long is stuck in the kernel (D
// state), and waiting longer would only keep our caller waiting.
const killWait = 30 * time.Second

// reaperMain runs the reaper: it starts the command (path, argv), tells
// its parent the command's PID on the status pipe, then waits for the
// command's exit or its parent's death, kills every process below it and
// returns the exit code (or dies of the signal that killed the command).
//
// The order matters: the reaper becomes a child subreaper and subscribes
// to SIGCHLD before it starts the command, so no orphan can slip past it
// to init; it starts the command inside its cgroup from the first
// instruction (clone3), so no child can be forked outside.
func reaperMain(specText, path string, argv []string) int {
	spec, err := parseReaperSpec(specText)
	if err != nil {
		os.Stderr.WriteString("hangdog: reaper: " + err.Error() + "\n")
		return 127
	}
	lifeFD, statusFD := reaperFDs(spec)
	syscall.CloseOnExec(lifeFD)
	syscall.CloseOnExec(statusFD)
	status := os.NewFile(uintptr(statusFD), "reaper-status")
	report := func(st reaperStatus) {
		b, _ := json.Marshal(st)
		status.Write(append(b, '\n'))
		status.Close()
	}
	if os.Getppid() != spec.parent {
		report(reaperStatus{Error: "parent exited before the reaper started"})
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		report(reaperStatus{Error: "PR_SET_CHILD_SUBREAPER: " + err.Error()})
		return 127
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, reaperEnv+"=") {
			env = append(env, kv)
		}
	}
	files := []uintptr{0, 1, 2}
	for i := 0; i < spec.extra; i++ {
		files = append(files, uintptr(3+i))
	}
	attr := &syscall.SysProcAttr{Setpgid: spec.setpgid, Pdeathsig: syscall.Signal(spec.pdeathsig)}
	st := reaperStatus{}
	var cg *cgroup
	if !spec.cgroup {
		st.NoCgroup = "not asked for"
	} else if cg, err = newCgroup(); err != nil {
		st.NoCgroup = err.Error()
	} else {
		attr.UseCgroupFD, attr.CgroupFD = true, cg.fd
	}
	pa := &syscall.ProcAttr{Env: env, Files: files, Sys: attr}
	pid, err := syscall.ForkExec(path, argv, pa)
	if err != nil && cg != nil {
		// clone3 into the cgroup was refused (an old kernel, a cgroup
		// we may create but not enter): run without it.
		st.NoCgroup = "starting into " + cg.dir + ": " + err.Error()
		cg.remove()
		cg = nil
		attr.UseCgroupFD, attr.CgroupFD = false, 0
		pid, err = syscall.ForkExec(path, argv, pa)
	}
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			report(reaperStatus{Errno: int(errno)})
		} else {
			report(reaperStatus{Error: err.Error()})
		}
		return 127
	}
	st.PID = pid
	if cg != nil {
		st.Cgroup = cg.dir
	}
	report(st)
	quietStdio(spec.extra)

	gone := make(chan struct{})
	go func() {
		// Nobody writes to the lifeline: the read returns when every
		// write end is closed, that is when our parent has exited.
		var b [1]byte
		os.NewFile(uintptr(lifeFD), "reaper-lifeline").Read(b[:])
		close(gone)
	}()

	r := &reaper{pid: pid, cg: cg}
	orphaned := false
	for !r.exited && !orphaned {
		select {
		case s := <-sigs:
			if s == syscall.SIGCHLD {
				r.reap()
			} else if os.Getppid() != spec.parent {
				// The parent-death signal, or a hangup after it: the
				// parent is gone. With the parent alive, a signal is for
				// the parent to act on (it stops the run itself).
				orphaned = true
			}
		case <-gone:
			orphaned = true
		}
	}
	r.killAll(sigs)
	if orphaned {
		return 1
	}
	return r.exitCode()
}

// quietStdio points the reaper's own standard streams at /dev/null and
// closes the extra files it passed on: the command must be the only
// holder of what it was given, so that its readers see end of file when
// the command and its children close them, not when the reaper exits.
func quietStdio(extra int) {
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		for fd := 0; fd <= 2; fd++ {
			unix.Dup3(null, fd, 0)
		}
		unix.Close(null)
	}
	for i := 0; i < extra; i++ {
		unix.Close(3 + i)
	}
}

// reaper is the state of the reaper's wait: the command and its cgroup.
type reaper struct {
	pid        int
	cg         *cgroup // nil: no cgroup
	exited     bool    // the command has exited and been reaped
	status     syscall.WaitStatus
	noChildren bool // the last reap found no child at all
}

// reap collects every child that has exited (orphans re-parented to the
// reaper included), noting the command's status when it is among them.
func (r *reaper) reap() {
	r.noChildren = false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			r.noChildren = err == syscall.ECHILD
			return
		}
		if pid <= 0 {
			return
		}
		if pid == r.pid {
			r.exited, r.status = true, ws
		}
	}
}

// killAll kills every process below the reaper until none is left: the
// cgroup with cgroup.kill, and the process tree, each process stopped
// before any is killed so that none forks past the walk. A killed
// process's children are re-parented to the reaper, so each round finds
// what the last one left; it ends when the reaper has no child left and
// the cgroup is empty, or after killWait.
func (r *reaper) killAll(sigs <-chan os.Signal) {
	deadline := time.Now().Add(killWait)
	for {
		if r.cg != nil {
			r.cg.kill()
		}
		freezeAndKill(os.Getpid(), false)
		r.reap()
		if r.noChildren && (r.cg == nil || !r.cg.populated()) {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-sigs:
		case <-time.After(20 * time.Millisecond):
		}
	}
	if r.cg != nil {
		r.cg.remove()
	}
}

// exitCode returns the command's exit code; if a signal killed it, the
// reaper dies of the same signal and exitCode does not return.
func (r *reaper) exitCode() int {
	switch {
	case r.status.Exited():
		return r.status.ExitStatus()
	case r.status.Signaled():
		sig := r.status.Signal()
		raise(sig)
		return 128 + int(sig)
	}
	return 1
}

// raise makes the reaper die of sig, as the command did, so that its
// parent's wait sees the same status. The Go runtime handles most signals
// itself (SIGQUIT would print a goroutine dump), so the kernel's default
// action is put back first with rt_sigaction: a zero struct sigaction is
// SIG_DFL on every architecture, whatever its layout. No core is written
// (PR_SET_DUMPABLE 0): the command's crash is not the reaper's. If the
// signal does not end the process, raise returns.
func raise(sig syscall.Signal) {
	runtime.LockOSThread()
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	signal.Reset(sig)
	var act [8]uint64 // larger than any struct sigaction the kernel reads
	for _, size := range []uintptr{8, 16} {
		_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, size, 0, 0)
		if e != syscall.EINVAL {
			break
		}
	}
	var set unix.Sigset_t
	bits := uint(unsafe.Sizeof(set.Val[0])) * 8
	set.Val[uint(sig-1)/bits] |= 1 << (uint(sig-1) % bits)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	time.Sleep(100 * time.Millisecond) // a signal that stops or is ignored by default
}
