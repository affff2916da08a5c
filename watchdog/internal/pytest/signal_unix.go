//go:build unix

package pytest

import "syscall"

// sendSignal sends signal sig to process pid.
func sendSignal(pid, sig int) error {
	return syscall.Kill(pid, syscall.Signal(sig))
}
