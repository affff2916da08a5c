// Package engine is hangdog's runner-neutral core run: it starts the
// runner under the reaper (or reads a saved stream), follows every test's
// heartbeat, applies the capture policy to stalls (snapshot, look again,
// kill, rerun), asks the runner's adapter (core.Adapter) for what only the
// runner knows, owns the report's hangs and writes every output. Package
// watchdog wires an adapter in; engine imports none (see
// core/deps_test.go and ARCHITECTURE.md).
package engine

import (
	"io"
	"regexp"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// DefaultStall is the quiet time after which a test counts as stalled.
const DefaultStall = time.Minute

// DefaultKillAfter is the quiet time after which a stalled process that a
// live snapshot looked at is stopped: well under go test's own 10m
// timeout, so that hangdog reports before go kills the binary.
const DefaultKillAfter = 4 * time.Minute

// StallRule overrides the stall threshold for tests whose full name
// matches Pattern.
type StallRule struct {
	Pattern *regexp.Regexp
	Stall   time.Duration
}

// Options say what the engine runs and how it watches it (the fields of
// watchdog.Config that are not the adapter's; see there).
type Options struct {
	Dir        string
	Program    string   // the runner's executable ("" = the adapter's default)
	Args       []string // the user's arguments
	RawCommand []string
	Input      io.Reader
	Offline    bool
	Env        []string

	Stdout, Stderr io.Writer
	Format         string
	JSONFile       string
	ReportJSON     string
	ArtifactsDir   string

	Stall     time.Duration
	StallFor  []StallRule
	Tick      time.Duration
	KillAfter time.Duration

	RerunHung   bool
	RecordTests bool
	// FailOnLeak makes leaks found (core.LeakReporter) fail the run with
	// ExitLeaked.
	FailOnLeak bool

	JUnitFile, HTMLFile string
	GitHubActions       bool
	GitHubStepSummary   string
	HistoryFile         string
	Status              bool
	NoColor             bool
	Width               func() int

	Logger *zap.Logger

	// NewAdapter returns a fresh adapter for a rerun of one test.
	NewAdapter func() core.Adapter

	// nested is a run inside another (a resume): its closing lines are
	// the outer run's.
	nested bool
}

func (o *Options) stall() time.Duration {
	if o.Stall > 0 {
		return o.Stall
	}
	return DefaultStall
}

// rule returns the first --stall-for rule that matches test.
func (o *Options) rule(test string) (StallRule, bool) {
	for _, r := range o.StallFor {
		if r.Pattern.MatchString(test) {
			return r, true
		}
	}
	return StallRule{}, false
}

func (o *Options) tick() time.Duration {
	if o.Tick > 0 {
		return o.Tick
	}
	t := o.stall() / 20
	for _, r := range o.StallFor {
		if r.Stall/20 < t {
			t = r.Stall / 20
		}
	}
	return min(max(t, 10*time.Millisecond), time.Second)
}
