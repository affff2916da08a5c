//go:build !linux

package proc

import "os/exec"

// StartReaped starts cmd directly, as cmd.Start does: only Linux has a
// reaper (see Reaped). Wait for it with the returned Reaped's Wait.
func StartReaped(cmd *exec.Cmd) (*Reaped, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Reaped{PID: cmd.Process.Pid, cmd: cmd}, nil
}
