package core

import "time"

// Action is what an event says happened. Its values are test2json's
// action names, which every adapter maps its runner's events onto (see
// ARCHITECTURE.md); an action the core does not know still counts as a
// sign of life of its test or unit.
type Action string

// The actions the core acts on.
const (
	ActionRun         Action = "run"          // a test started
	ActionPause       Action = "pause"        // a test waits for a parallel slot
	ActionCont        Action = "cont"         // a paused test goes on
	ActionPass        Action = "pass"         // a test or unit passed
	ActionFail        Action = "fail"         // a test or unit failed
	ActionSkip        Action = "skip"         // a test or unit was skipped
	ActionOutput      Action = "output"       // a line (or chunk) of output
	ActionBuildOutput Action = "build-output" // output of building a unit
)

// Ended reports whether a is a result: the test (or, without a test, the
// unit) has ended.
func (a Action) Ended() bool {
	return a == ActionPass || a == ActionFail || a == ActionSkip
}

// Event is one event of a run, as an adapter hands it to the core. It is a
// value: the core keeps none of the adapter's buffers.
type Event struct {
	Unit   string // the unit's name; "" for an event of no unit (ignored)
	Test   string // the test's full name; "" for an event of the unit
	Action Action
	// Output is the text of an output event.
	Output string
	// Typed says that the runner marks which output lines are errors
	// (Go 1.27+'s OutputType); ErrorLine that this one is one.
	Typed, ErrorLine bool
	// Elapsed is the runner's own duration of a test or unit that ended,
	// in seconds; BuildFailed says that a unit failed because it did not
	// build.
	Elapsed     float64
	BuildFailed bool
	// Time is the runner's time of the event (zero when it gives none).
	Time time.Time
}
