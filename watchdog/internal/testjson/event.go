// Package testjson reads the event stream of `go test -json` (test2json) as
// a stream: one event per line, non-JSON text passed through untouched, with
// bounded memory however long a line is. The watchdog engine and the output
// formatters use it.
package testjson

import "time"

// Action is the Action field of a test2json event. The set is open: unknown
// actions from newer Go releases are kept as they are.
type Action string

// Actions known as of Go 1.26 (and 1.27's OutputType on output events).
const (
	ActionStart       Action = "start"        // binary started (Go 1.20+)
	ActionRun         Action = "run"          // test started
	ActionPause       Action = "pause"        // parallel test waits for a slot
	ActionCont        Action = "cont"         // parallel test resumed
	ActionPass        Action = "pass"         // test or package passed
	ActionFail        Action = "fail"         // test or package failed
	ActionSkip        Action = "skip"         // test or package skipped
	ActionOutput      Action = "output"       // output line (or chunk)
	ActionBench       Action = "bench"        // benchmark printed a result
	ActionBuildOutput Action = "build-output" // Go 1.24+, with ImportPath
	ActionBuildFail   Action = "build-fail"   // Go 1.24+, with ImportPath
	ActionAttr        Action = "attr"         // Go 1.25+, t.Attr
	ActionArtifacts   Action = "artifacts"    // Go 1.26+
)

// OutputType values of output events (Go 1.27+; cmd/test2json's doc).
// Older releases set none; "" is plain output in every release.
const (
	OutputFrame         = "frame"          // framing: "=== RUN", "--- FAIL: …", "PASS"
	OutputError         = "error"          // the first line of a t.Error/t.Fatal message
	OutputErrorContinue = "error-continue" // its further lines (and further chunks of a long line)
)

// Event is one test2json event. Fields not listed are ignored.
type Event struct {
	Time        time.Time `json:",omitempty"`
	Action      Action
	Package     string  `json:",omitempty"`
	Test        string  `json:",omitempty"`
	Elapsed     float64 `json:",omitempty"` // seconds
	Output      string  `json:",omitempty"`
	ImportPath  string  `json:",omitempty"`
	FailedBuild string  `json:",omitempty"`
	OutputType  string  `json:",omitempty"` // Go 1.27+, on output events: see OutputFrame
	Key         string  `json:",omitempty"`
	Value       string  `json:",omitempty"`
	Path        string  `json:",omitempty"`
}

// IsError reports whether e is output of a t.Error or t.Fatal message, as
// Go 1.27+ marks it; always false for older streams.
func (e *Event) IsError() bool {
	return e.OutputType == OutputError || e.OutputType == OutputErrorContinue
}

// Handler receives what a Scanner reads, in input order. It is called from
// the goroutine that runs Scan only.
type Handler interface {
	// Event is called for each line that is a test2json event. raw is the
	// line as read, including its newline; it is only valid during the call.
	Event(e *Event, raw []byte)
	// Text is called for input that is not an event (build errors, output of
	// old toolchains, anything else). A line longer than the scanner's
	// buffer arrives in several calls; end is true on the call that ends
	// the line (or the input). chunk is only valid during the call.
	Text(chunk []byte, end bool)
}
