// Package policy holds the capture policy's decisions as pure functions of
// values (when a quiet unit is a stall, which tests to name beside a hung
// one, when a live hang is stopped), so that they are tested without a
// process. Package watchdog's engine calls it; it knows no runner.
package policy

import (
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/report"
)

// UnitStall decides what a unit quiet past its threshold with no test
// running is: found says whether its process was found, hasRun whether it
// showed any sign of running (a test, output, its process seen earlier).
// A unit that was never seen running and has no process is not a stall
// (built, waiting for a slot, or between the build and its process); one
// whose process runs no test is in its setup (testmain); one whose process
// is gone has exited while something still holds its output (exit).
func UnitStall(found, hasRun bool) (phase report.Phase, stall bool) {
	switch {
	case !found && !hasRun:
		return "", false
	case !found:
		return report.PhaseExit, true
	default:
		return report.PhaseTestMain, true
	}
}

// WithoutAncestors drops from list the parents (grandparents, …) of the
// stalled tests, as n names them: they wait for them and are not worth
// naming.
func WithoutAncestors(n core.Namer, list, stalled []string) []string {
	var out []string
	for _, o := range list {
		anc := false
		for _, s := range stalled {
			if IsAncestor(n, o, s) {
				anc = true
				break
			}
		}
		if !anc {
			out = append(out, o)
		}
	}
	return out
}

// IsAncestor reports whether test a is a parent, grandparent, … of test b
// by their names.
func IsAncestor(n core.Namer, a, b string) bool {
	for q, ok := n.Parent(b); ok; q, ok = n.Parent(q) {
		if q == a {
			return true
		}
	}
	return false
}

// KillAfter is the quiet time after which a stalled process that was
// looked at without stopping it is stopped: set (--kill-after; fallback
// when not set), but never less than a threshold that found the stall.
func KillAfter(set, fallback time.Duration, thresholds ...time.Duration) time.Duration {
	k := set
	if k <= 0 {
		k = fallback
	}
	for _, th := range thresholds {
		k = max(k, th)
	}
	return k
}

// LiveAction is what to do with a live hang (a stalled process that was
// looked at and keeps running) on a tick.
type LiveAction int

const (
	LiveWait   LiveAction = iota // its tests are still quiet, not yet for killAfter
	LiveForget                   // its unit finished, or none of its tests is hung any more
	LiveKill                     // quiet for killAfter: stop its process
)

// Live decides a live hang's fate: done says its unit has finished, alive
// how many of its tests are still hung, quiet how long the latest of them
// has been quiet.
func Live(done bool, alive int, quiet, killAfter time.Duration) LiveAction {
	switch {
	case done || alive == 0:
		return LiveForget
	case quiet >= killAfter:
		return LiveKill
	default:
		return LiveWait
	}
}

// Ghost reports whether the hang of a test is a ghost: its snapshot
// worked (captureErr is empty) and none of the test's goroutines or
// threads is left in it (stuck is 0). A parallel test's result can come
// long after its function returned, so it looks quiet while nothing of it
// runs. The hang of a unit outside any test (test "") is never a ghost.
func Ghost(test string, stuck int, captureErr string) bool {
	return test != "" && stuck == 0 && captureErr == ""
}
