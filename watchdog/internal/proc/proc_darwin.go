package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"time"
)

// Supported reports what this OS offers: macOS has the tree (ps), but no
// pipe inodes to match open files on.
func Supported() (tree, files bool, why string) {
	return true, false, "open files: no /proc/PID/fd (lsof shows pipes by kernel address, not inode)"
}

// runPS runs ps with extra selection arguments.
func runPS(sel ...string) ([]byte, error) {
	cmd := exec.Command("ps", append(sel, psArgs...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("ps: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

func snapshot() ([]Process, error) {
	out, err := runPS("-A")
	if err != nil {
		return nil, fmt.Errorf("proc: list processes: %w", err)
	}
	ps, err := parsePS(bytes.NewReader(out), time.Local)
	if err != nil {
		return nil, fmt.Errorf("proc: list processes: %w", err)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	return ps, nil
}

func get(pid int) (Process, error) {
	out, err := runPS("-p", strconv.Itoa(pid))
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(bytes.TrimSpace(out)) == 0 {
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, ErrNoProcess) // ps exits 1 when nothing matched
	}
	if err != nil {
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, err)
	}
	ps, err := parsePS(bytes.NewReader(out), time.Local)
	if err != nil || len(ps) == 0 {
		return Process{}, fmt.Errorf("proc: get %d: %w", pid, ErrNoProcess)
	}
	return ps[0], nil
}

// fill has nothing cheap to add on macOS.
func fill(*Process) {}

// fillCwd asks lsof for the working directory; it stays empty if lsof is
// missing or fails.
func fillCwd(p *Process) {
	out, err := exec.Command("lsof", "-a", "-p", strconv.Itoa(p.PID), "-d", "cwd", "-Fn").Output()
	if err == nil {
		p.Cwd = parseLsofCwd(string(out))
	}
}

// OpenFiles is not supported on macOS; see Supported.
func OpenFiles(pid int) ([]FD, error) {
	_, _, why := Supported()
	return nil, unsupported("list open files", why)
}
