package watchdog

// This file is the public face of `hangdog stacks` and of reading dumps:
// the go test adapter (internal/gotest) does the work.

import (
	"io"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
)

// StacksVersion is the version of the `hangdog stacks --json` format.
const StacksVersion = gotest.StacksVersion

// MaxBucketIDs is how many goroutine ids a bucket lists with
// SummaryOptions.BucketsOnly; Count still counts them all.
const MaxBucketIDs = gotest.MaxBucketIDs

// The summary of a goroutine dump, as `hangdog stacks` prints it. Their
// JSON form is a documented contract (README, "hangdog stacks").
type (
	DumpSummary        = gotest.DumpSummary
	SummaryWarning     = gotest.SummaryWarning
	SummaryRunningTest = gotest.SummaryRunningTest
	TestSummary        = gotest.TestSummary
	StackGroup         = gotest.StackGroup
	LockGroup          = gotest.LockGroup
	LockCycle          = gotest.LockCycle
	SummaryOptions     = gotest.SummaryOptions
)

// SummarizeDumps reads every goroutine dump in r and calls each with its
// summary, in input order (see gotest.SummarizeDumps).
func SummarizeDumps(r io.Reader, o SummaryOptions, each func(*DumpSummary)) error {
	return gotest.SummarizeDumps(r, o, each)
}

// SummarizeDump summarizes one parsed dump (see gotest.SummarizeDump).
func SummarizeDump(d *stackparse.Dump, o SummaryOptions) *DumpSummary {
	return gotest.SummarizeDump(d, o)
}

// ReadDumps reads every goroutine dump in r: plain text, a pprof profile,
// or a go test -json stream (see gotest.ReadDumps).
func ReadDumps(r io.Reader) ([]*stackparse.Dump, error) { return gotest.ReadDumps(r) }

// ScanDumps is ReadDumps with p's options and callbacks (see
// gotest.ScanDumps).
func ScanDumps(r io.Reader, p *stackparse.Parser) ([]*stackparse.Dump, error) {
	return gotest.ScanDumps(r, p)
}
