package gotest

import "github.com/hangdog/hangdog/watchdog/report"

// The diagnosis is written in the report's own types (a hang, its phase,
// its groups of goroutines): the engine merges it into the hangs it owns.
type (
	Hang           = report.Hang
	Phase          = report.Phase
	GoroutineGroup = report.GoroutineGroup
)

// The phases of a stall.
const (
	PhaseTest     = report.PhaseTest
	PhaseCleanup  = report.PhaseCleanup
	PhaseTestMain = report.PhaseTestMain
	PhaseExit     = report.PhaseExit
)
