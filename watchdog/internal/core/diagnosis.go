package core

import "github.com/hangdog/hangdog/watchdog/report"

// Diagnosis is what an adapter read out of a snapshot about one stuck test
// or, with Test "", about the unit stuck outside any test. The core merges
// it into the hang it owns; the adapter keeps nothing of it.
type Diagnosis struct {
	Test  string
	Phase report.Phase // the runner's phase: test, cleanup, testmain
	// State and Location are those of the goroutine or thread running
	// the test: what it waits on, and the innermost frame in the user's
	// code (file:line).
	State, Location string
	// Summary is the one line to read first.
	Summary string
	// Goroutines are the stuck goroutines (or threads) grouped by
	// identical stack; nil when the snapshot showed none of the test's.
	Goroutines []report.GoroutineGroup
	// From two stacks a moment apart (live snapshots only): Verdict is
	// stuck, moving or spinning; Changed the test's goroutines that moved;
	// CPUPercent the CPU used meanwhile; HotFunction where, when it spun.
	Verdict     string
	Changed     []int64
	CPUPercent  float64
	HotFunction string
	// Explained says the summary already tells what the process
	// forensics found (the core then adds nothing of them).
	Explained bool
}
