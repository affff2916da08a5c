package gotest

import (
	"github.com/hangdog/hangdog/stackparse"
)

// A snapshot must not change what the binary does. The agent runs no
// garbage collection and keeps its allocations small; what remains is
// decided here: a CPU profile (whose buffers, about 2.4 MB of heap, can
// bring on a GC in a small binary) is taken only when something runs on a
// CPU, and the deadlock the agent's timer hides is named.

// OnCPU reports whether a goroutine of the dump was running or runnable:
// only then can a CPU profile tell anything (a binary whose goroutines
// all wait uses no CPU).
func OnCPU(d *stackparse.Dump) bool {
	if d == nil {
		return false
	}
	for _, g := range d.Goroutines {
		if w := stackparse.Classify(g); w == stackparse.WaitRunning || w == stackparse.WaitRunnable {
			return true
		}
	}
	return false
}

// AllAsleep reports whether every goroutine of the dump (the agent's own
// is not in it) waits on a channel, a select or a sync primitive: nothing
// runs, sleeps, waits for I/O or for a system call. Outside m.Run, where
// the testing package's -timeout alarm is not pending, the runtime would
// then have found the deadlock itself, but for a timer of the program's
// own (a select on time.After), which a dump does not show.
func AllAsleep(d *stackparse.Dump) bool {
	if d == nil {
		return false
	}
	n := 0
	for _, g := range d.Goroutines {
		switch stackparse.Classify(g) {
		case stackparse.WaitRuntime:
		case stackparse.WaitChanRecv, stackparse.WaitChanSend, stackparse.WaitChanRecvNil, stackparse.WaitChanSendNil,
			stackparse.WaitSelect, stackparse.WaitSelectNoCases, stackparse.WaitMutex, stackparse.WaitRLock,
			stackparse.WaitWLock, stackparse.WaitWaitGroup, stackparse.WaitCond:
			n++
		default:
			return false
		}
	}
	return n > 0
}

// DeadlockNote is what a testmain hang whose goroutines are all asleep
// adds to its summary.
const DeadlockNote = `every goroutine is blocked: without hangdog's agent, whose poll timer keeps the runtime's deadlock detector quiet, the binary would have stopped at once with "fatal error: all goroutines are asleep - deadlock!" (unless it waits on a timer of its own)`
