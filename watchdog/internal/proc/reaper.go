package proc

import (
	"os"
	"os/exec"
)

// Reaped is a command started by StartReaped.
//
// On Linux the command runs below a reaper: a copy of our own executable
// (re-executed from /proc/self/exe in a hidden mode, see reaperMain) that
// is made a child subreaper (PR_SET_CHILD_SUBREAPER), so every process the
// command starts stays its descendant even when its parent dies or it
// calls setsid(2). Where a cgroup v2 directory can be created below our
// own cgroup, the command is started inside it (clone3 CLONE_INTO_CGROUP).
// The reaper waits for two things: the command's exit, and our death,
// which it learns from the end of a pipe only we hold the write end of
// (and from its parent-death signal). In both cases it kills everything
// below it — the cgroup at once (cgroup.kill), and every descendant by
// the process tree, stopped first so that none can fork meanwhile — until
// nothing is left, then exits: after the command's exit, with the
// command's own exit status (or dies of the same signal); after our death,
// with status 1, to nobody.
//
// Elsewhere (macOS, Windows) there is no reaper: the command is started
// directly, as cmd.Start does.
type Reaped struct {
	// PID is the command's own process ID: signal it and look for its
	// children below it exactly as if it had been started directly.
	PID int
	// Reaper is the reaper's PID, 0 when there is none.
	Reaper int
	// Cgroup is the cgroup directory the command runs in, "" when none
	// could be made (no cgroup v2, or ours is not writable).
	Cgroup string
	// NoCgroup says why there is no cgroup, when there is a reaper but
	// Cgroup is empty.
	NoCgroup string

	cmd      *exec.Cmd
	lifeline *os.File // the write end the reaper reads to know we are alive
}

// Wait waits for the command to exit, like cmd.Wait, whose error it
// returns: the reaper passes the command's exit status on. When it
// returns, every process the command started is gone.
func (r *Reaped) Wait() error {
	err := r.cmd.Wait()
	if r.lifeline != nil {
		r.lifeline.Close()
	}
	return err
}
