package proc

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// Configure starts cmd in a new process group (CREATE_NEW_PROCESS_GROUP).
// Windows has no parent-death signal.
func Configure(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= syscall.CREATE_NEW_PROCESS_GROUP
}

// SignalGroup is not supported on Windows (no process group signals).
func SignalGroup(pgid int, sig os.Signal) error {
	return unsupported("signal a process group", "no POSIX signals; kill the process instead")
}

// Quit is not supported on Windows: there is no SIGQUIT, so a Go program
// cannot be asked for its goroutines from outside.
func Quit(pid int) error {
	return unsupported("send SIGQUIT", "no SIGQUIT, goroutines cannot be captured from outside")
}

// KillTree runs `taskkill /T /F /PID pid`, which kills the process and its
// descendants.
func KillTree(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("proc: kill tree %d: refusing a pid <= 0", pid)
	}
	out, err := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("proc: kill tree %d: taskkill: %w: %s", pid, err, out)
	}
	return nil
}
