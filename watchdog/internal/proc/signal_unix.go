//go:build unix

package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Configure makes cmd start in a new process group of its own, whose PGID
// is the child's PID, so that SignalGroup and InGroup reach everything it
// starts, orphans included. On Linux it also sets Pdeathsig to SIGKILL:
// the child is killed when we die. The kernel sends that signal when the
// OS thread that started the child exits, which in Go only happens when a
// goroutine locked to its thread (runtime.LockOSThread) returns, so don't
// start cmd from such a goroutine. Pdeathsig covers the child only, not
// the test binaries below it: kill the group on the way out, and start
// with StartReaped what must not outlive us even then.
// Other SysProcAttr fields of cmd are kept. Call it before cmd.Start.
func Configure(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	setPdeathsig(cmd.SysProcAttr)
}

// SignalGroup sends sig to every process in process group pgid. A group
// that no longer exists is not an error. pgid must be > 1: kill(2) gives
// 0 and -1 meanings (our own group, every process) no caller wants here.
func SignalGroup(pgid int, sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("proc: signal group %d: unsupported signal %v", pgid, sig)
	}
	if pgid <= 1 {
		return fmt.Errorf("proc: signal group %d: refusing a process group <= 1", pgid)
	}
	if err := syscall.Kill(-pgid, s); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("proc: signal group %d with %v: %w", pgid, sig, err)
	}
	return nil
}

// Quit sends SIGQUIT to pid: a Go program prints all its goroutines and
// exits with status 2 (unless it handles SIGQUIT itself). The error wraps
// ErrNoProcess if pid has exited.
func Quit(pid int) error {
	if pid <= 1 {
		return fmt.Errorf("proc: quit %d: refusing a pid <= 1", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			err = ErrNoProcess
		}
		return fmt.Errorf("proc: quit %d: %w", pid, err)
	}
	return nil
}

// maxFreezeRounds bounds how often KillTree re-reads the tree while
// stopping it. Each round stops every process it finds, and a stopped
// process cannot fork, so a tree is usually complete after two rounds; the
// bound only guards against a tree that keeps changing for other reasons.
const maxFreezeRounds = 10

// KillTree kills pid and all its descendants with SIGKILL. It first stops
// the tree with SIGSTOP, parents before children, re-reading it until no
// new process appears (a stopped process cannot fork, and its children stay
// its children), then sends SIGKILL to all of them. Processes that exit
// meanwhile are ignored. Processes that left the tree before the call
// (re-parented orphans) are not found: signal the group for those.
// It returns nil if pid is already gone. Like every signal sent by PID, it
// could hit an unrelated process if one of the tree's PIDs were reused in
// the microseconds between reading the tree and sending the signal.
func KillTree(pid int) error {
	if pid <= 1 {
		return fmt.Errorf("proc: kill tree %d: refusing a pid <= 1", pid)
	}
	if _, err := freezeAndKill(pid, true); err != nil {
		return fmt.Errorf("proc: kill tree %d: %w", pid, err)
	}
	return nil
}

// freezeAndKill is KillTree's method: stop (SIGSTOP) root, if withRoot,
// and every descendant of root, re-reading the tree until no new process
// appears, then SIGKILL all of them. It returns how many processes it
// signalled.
func freezeAndKill(root int, withRoot bool) (int, error) {
	stopped := []int{}
	seen := map[int]bool{root: !withRoot}
	stop := func(pid int) {
		if !seen[pid] {
			seen[pid] = true
			stopped = append(stopped, pid)
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
	}
	stop(root)
	var errs []error
	for round := 0; round < maxFreezeRounds; round++ {
		all, err := snapshot()
		if err != nil {
			errs = append(errs, err)
			break
		}
		before := len(stopped)
		for _, p := range descendants(all, root) {
			if p.State != "Z" { // a zombie is dead already: only its parent's wait removes it
				stop(p.PID)
			}
		}
		if len(stopped) == before {
			break
		}
	}
	for _, p := range stopped {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("pid %d: %w", p, err))
		}
	}
	return len(stopped), errors.Join(errs...)
}
