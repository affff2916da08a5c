package engine

// This file handles the exit phase: a binary that is gone while an
// orphan it started still holds the package's output pipe.

import (
	"fmt"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/proc"
)

// captureExit names (and stops) the processes that hold the output pipe of
// a package whose binary has exited.
func (e *engine) captureExit(pkg string, h *Hang) {
	holders, err := e.pipeHolders()
	var names []string
	for _, pr := range holders {
		info := processInfo(pr, "pipe-holder")
		if proc.KillTree(pr.PID) == nil {
			info.Killed = true
		}
		h.Processes = append(h.Processes, info)
		names = append(names, fmt.Sprintf("%d (%s)", pr.PID, cmdString(pr.Cmdline)))
	}
	e.mu.Lock()
	switch {
	case len(names) == 1:
		h.Summary = fmt.Sprintf("%s: the test binary exited but process %s still holds its output pipe, so go test waits for it", pkg, names[0])
	case len(names) > 1:
		h.Summary = fmt.Sprintf("%s: the test binary exited but processes %s still hold its output pipe, so go test waits for them", pkg, strings.Join(names, ", "))
	default:
		h.Summary = fmt.Sprintf("%s: the test binary exited but go test has not reported the package", pkg)
		if err != nil {
			h.CaptureError = err.Error()
		}
	}
	if len(names) > 0 {
		h.Summary += " (killed)"
	}
	e.releasePackage(pkg)
	e.mu.Unlock()
	e.printHangs([]*Hang{h})
}

// pipeHolders finds processes of the run that were orphaned (their parent,
// a test binary, has exited) and hold a pipe that go also holds: they keep
// a package's output open.
func (e *engine) pipeHolders() ([]proc.Process, error) {
	group, err := proc.InGroup(e.rootPID)
	if err != nil {
		return nil, err
	}
	byPID := make(map[int]proc.Process, len(group))
	for _, p := range group {
		byPID[p.PID] = p
	}
	// Everything below a direct child of go (toolchain, live test
	// binaries and their children) is accounted for.
	live := func(p proc.Process) bool {
		for i := 0; i < 64 && p.PID != 0; i++ {
			if p.PPID == e.rootPID || p.PID == e.rootPID {
				return true
			}
			q, ok := byPID[p.PPID]
			if !ok {
				return false
			}
			p = q
		}
		return false
	}
	var out []proc.Process
	inodes, err := proc.ReadPipes(e.rootPID)
	var holders []proc.Holder
	if err == nil {
		holders, err = proc.PipeHolders(e.rootPID, inodes)
	}
	if err != nil {
		// No open-file information on this OS: every orphan of the run
		// is a suspect.
		for _, p := range group {
			if !live(p) {
				out = append(out, p)
			}
		}
		return out, nil
	}
	for _, h := range holders {
		if !live(h.Process) {
			out = append(out, h.Process)
		}
	}
	return out, nil
}
