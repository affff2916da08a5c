//go:build !linux && !darwin

package proc

import "fmt"

// Supported reports what this OS offers: no process tree, no open files.
func Supported() (tree, files bool, why string) {
	return false, false, "no process listing (needs /proc or ps): test binaries cannot be found, goroutines not captured"
}

func snapshot() ([]Process, error) {
	_, _, why := Supported()
	return nil, unsupported("list processes", why)
}

func get(pid int) (Process, error) {
	_, _, why := Supported()
	return Process{}, unsupported(fmt.Sprintf("get process %d", pid), why)
}

func fill(*Process)    {}
func fillCwd(*Process) {}

// OpenFiles is not supported on this OS.
func OpenFiles(pid int) ([]FD, error) {
	return nil, unsupported("list open files", "no /proc/PID/fd")
}
