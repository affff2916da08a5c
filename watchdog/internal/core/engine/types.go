package engine

import "github.com/hangdog/hangdog/watchdog/report"

// The report's types under short names.
type (
	Hang           = report.Hang
	GoroutineGroup = report.GoroutineGroup
	ProcessInfo    = report.ProcessInfo
	Phase          = report.Phase
)

// The phases of a stall.
const (
	PhaseTest     = report.PhaseTest
	PhaseCleanup  = report.PhaseCleanup
	PhaseTestMain = report.PhaseTestMain
	PhaseExit     = report.PhaseExit
)

func writeJSONFile(path string, v any) error { return report.WriteJSONFile(path, v) }
