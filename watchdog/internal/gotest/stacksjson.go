package gotest

// The model of `hangdog stacks` (and its --json format): what a summary
// says of a dump, its tests, stack groups, locks and lock cycles.

import "regexp"

// StacksVersion is the version of the `hangdog stacks --json` format.
const StacksVersion = 1

// DumpSummary is what `hangdog stacks` says of one goroutine dump: the
// goroutines grouped per test, most important first. Its JSON form is a
// documented contract (README, "hangdog stacks"): fields may be added
// within a version; a field that changes meaning or goes away bumps
// StacksVersion.
type DumpSummary struct {
	Version      int                  `json:"version"`
	Kind         string               `json:"kind"`
	Reason       string               `json:"reason,omitempty"`
	StartLine    int                  `json:"start_line"`
	Goroutines   int                  `json:"goroutines"` // read in all (profiles: the sum of the counts)
	RunningTests []SummaryRunningTest `json:"running_tests"`
	Tests        []TestSummary        `json:"tests"`
	Other        []StackGroup         `json:"other"`
	Buckets      []StackGroup         `json:"buckets"`
	Hidden       int                  `json:"hidden"` // runtime and testing-package goroutines left out (see All)
	Filtered     bool                 `json:"filtered"`
	BucketsOnly  bool                 `json:"buckets_only"` // --buckets: only Buckets is filled in
	LockGroups   []LockGroup          `json:"lock_groups"`
	LockCycles   []LockCycle          `json:"lock_cycles"`
	Warnings     []SummaryWarning     `json:"warnings"`
	// WarningsDropped counts warnings beyond the parser's bound.
	WarningsDropped int `json:"warnings_dropped"`
}

// SummaryWarning is a line of the input the parser could not place.
type SummaryWarning struct {
	Line int    `json:"line"` // 1-based line number in the input (of the package's output, for a go test -json stream)
	Text string `json:"text"` // the line, cut at 200 bytes
	Msg  string `json:"msg"`  // what was wrong with it
}

// SummaryRunningTest is an entry of a dump's "running tests:" list.
type SummaryRunningTest struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// TestSummary is the goroutines of one test in a dump.
type TestSummary struct {
	Test       string       `json:"test"`
	Phase      Phase        `json:"phase"`
	State      string       `json:"state"`
	Location   string       `json:"location"`
	Summary    string       `json:"summary"`
	Goroutines []StackGroup `json:"goroutines"`
}

// StackGroup is a bucket of goroutines with the same stack: the fields of
// a hang report's goroutine group plus the pprof labels they carry (Go
// 1.26 tracebacks with GODEBUG=tracebacklabels=1, and profiles).
type StackGroup struct {
	GoroutineGroup
	Labels map[string]string `json:"labels,omitempty"`
	// StackUnavailable: the goroutine was running on another thread
	// when a panic printed the dump ("stack unavailable"); only its
	// creator is known.
	StackUnavailable bool `json:"stack_unavailable,omitempty"`
	// The qualifiers of the goroutine header, the same for every
	// goroutine of the group: "locked to thread" (runtime.LockOSThread),
	// "(durable)" (blocked durably inside a synctest bubble, Go 1.25+),
	// "synctest bubble N".
	LockedToThread bool  `json:"locked_to_thread,omitempty"`
	Durable        bool  `json:"durable,omitempty"`
	SynctestBubble int64 `json:"synctest_bubble,omitempty"`
	// Race is, in a race report, the access whose stack this is
	// ("Read at 0x00c0000ae148 by goroutine 8").
	Race string `json:"race,omitempty"`
}

// LockGroup is a set of goroutines waiting on the same lock, WaitGroup or
// channel address.
type LockGroup struct {
	Address string  `json:"address"`
	State   string  `json:"state"`
	IDs     []int64 `json:"ids"`
}

// LockCycle is a possible lock-order inversion between two goroutines:
// each waits on a sync.Mutex that lies inside an object the other one has
// among the arguments of its own code's frames (so, most likely, it locked
// that mutex before). A dump never says who holds a mutex, so this is
// inferred, and only found where the release printed those arguments
// reliably (not as "0x…?").
type LockCycle struct {
	Test      string   `json:"test,omitempty"` // when both goroutines belong to one test
	IDs       []int64  `json:"ids"`            // the two goroutines
	Addresses []string `json:"addresses"`      // the mutex each one waits on
	Objects   []string `json:"objects"`        // the argument of each one that holds the other's mutex
}

// SummaryOptions filter and shape a DumpSummary.
type SummaryOptions struct {
	All          bool           // keep runtime and testing-package goroutines
	Test         *regexp.Regexp // only tests whose name matches
	States       []string       // only goroutines in these states (canonical names)
	Package      *regexp.Regexp // only goroutines with a frame in a matching package
	KeepPointers bool           // group by argument values too
	Modules      []string       // module paths preferred for locations
	Base         string         // directory locations are made relative to

	// BucketsOnly makes SummarizeDumps fill in Buckets only (no tests,
	// other goroutines, lock groups or cycles: those need every
	// goroutine of the dump at once), grouping goroutines as they are
	// read and keeping one per bucket plus at most MaxBucketIDs ids, so
	// that memory depends on the number of distinct stacks, not on the
	// size of the dump. Test is ignored.
	BucketsOnly bool
}

// MaxBucketIDs is how many goroutine ids a bucket lists with
// SummaryOptions.BucketsOnly; Count still counts them all.
const MaxBucketIDs = 1000
