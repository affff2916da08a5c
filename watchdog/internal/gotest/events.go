package gotest

import (
	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// Event converts a test2json event into the core's: the package is the
// unit (go test runs a package's tests in one binary), test2json's action
// names are the core's, Go 1.27's OutputType says which lines are errors.
// The result shares no memory with e but its strings.
func Event(e *testjson.Event) core.Event {
	return core.Event{
		Unit:        e.Package,
		Test:        e.Test,
		Action:      core.Action(e.Action),
		Output:      e.Output,
		Typed:       e.OutputType != "",
		ErrorLine:   e.IsError(),
		Elapsed:     e.Elapsed,
		BuildFailed: e.FailedBuild != "",
		Time:        e.Time,
	}
}
