package watchdog

import "github.com/hangdog/hangdog/watchdog/report"

// The report types live in package report, so that writers and readers of
// reports need not import the engine. These aliases keep the engine's API
// in one place.
type (
	Report         = report.Report
	Totals         = report.Totals
	RunningTest    = report.RunningTest
	Hang           = report.Hang
	GoroutineGroup = report.GoroutineGroup
	ProcessInfo    = report.ProcessInfo
	Phase          = report.Phase
	Finding        = report.Finding
)

// ReportVersion is the version of the JSON report format.
const ReportVersion = report.Version

// The phases of a stall.
const (
	PhaseTest     = report.PhaseTest
	PhaseCleanup  = report.PhaseCleanup
	PhaseTestMain = report.PhaseTestMain
	PhaseExit     = report.PhaseExit
)

// ReadReport reads a JSON report written by --report-json.
func ReadReport(path string) (*Report, error) { return report.Read(path) }
