// Package stackparse reads Go goroutine dumps (SIGQUIT tracebacks, test
// timeout panics, deadlock reports, runtime.Stack and pprof goroutine
// profiles) into a small model and explains them: what each goroutine waits
// on, where in user code it waits, and which test it belongs to. It is used by
// hangdog's watchdog and by anyone who wants to read a dump from a CI log.
//
// stackparse depends on the standard library only (plus the pprof profile
// package where it reads proto profiles).
package stackparse

import (
	"strconv"
	"time"
)

// DumpKind says what produced a dump, judged from the lines before the first
// goroutine (the preamble).
type DumpKind int

const (
	KindUnknown     DumpKind = iota // goroutines with no recognised preamble (runtime.Stack, pprof debug=2)
	KindSIGQUIT                     // "SIGQUIT: quit" followed by PC= and registers
	KindTestTimeout                 // "panic: test timed out after D" with a running tests list
	KindDeadlock                    // "fatal error: all goroutines are asleep - deadlock!"
	KindPanic                       // "panic: ..." (other than a test timeout)
	KindFatal                       // "fatal error: ..." (other than the deadlock report)
	KindProfile                     // aggregated pprof goroutine profile (debug=1 text or debug=0 proto)
	KindRace                        // "WARNING: DATA RACE": a race detector report (see Goroutine.Race)
)

// RunningTest is one entry of the "running tests:" list printed by the
// testing package's timeout alarm.
type RunningTest struct {
	Name     string
	Duration time.Duration
}

// Warning is a line the parser could not place.
type Warning struct {
	Line int    // 1-based line number in the input
	Text string // the line, truncated to a reasonable length
	Msg  string
}

// Dump is one goroutine dump found in the input. An input may hold several.
type Dump struct {
	Kind         DumpKind
	Reason       string        // first preamble line, e.g. "panic: test timed out after 5s"
	TimeoutAfter time.Duration // for KindTestTimeout
	RunningTests []RunningTest // from a "running tests:" list, in printed order
	Goroutines   []*Goroutine  // in input order
	Warnings     []Warning
	StartLine    int // 1-based line of the first line that belongs to this dump

	// Preamble holds the preamble lines after Reason that were not parsed
	// into other fields: further lines of a panic value, "\tpanic: X
	// [recovered]" chains, "PC=0x… m=0 sigcode=0", "[signal …]".
	Preamble []string
	// NumGoroutines counts the goroutines parsed, including those handed
	// to Parser.OnGoroutine (for profiles: the sum of their Counts).
	NumGoroutines int
	// WarningsDropped counts warnings beyond Parser.MaxWarnings.
	WarningsDropped int
	// GOROOT is the directory holding the standard library's sources as
	// the dump's frames of package runtime or testing show it
	// ("/usr/local/go", or a toolchain in the module cache), "" when
	// none does (-trimpath builds). It tells user code from the standard
	// library (Frame.IsStdlibIn) for module paths without a dot. The
	// parser learns it from the first goroutines that show it; a
	// Parser.OnGoroutine callback sees what is known so far.
	GOROOT string

	gorootTries int // goroutines looked at for GOROOT
}

// maxGOROOTTries bounds the goroutines searched for GOROOT: a dump whose
// first goroutines show no absolute runtime or testing file was built with
// -trimpath.
const maxGOROOTTries = 64

// noteGOROOT learns GOROOT from g if it is not known yet.
func (d *Dump) noteGOROOT(g *Goroutine) {
	if d.GOROOT != "" || d.gorootTries >= maxGOROOTTries {
		return
	}
	d.gorootTries++
	d.GOROOT = findGOROOT(g.Frames, g.CreatedBy)
}

// String returns a short lowercase name for k: "unknown", "sigquit",
// "test timeout", "deadlock", "panic", "fatal error", "profile", "race".
func (k DumpKind) String() string {
	switch k {
	case KindUnknown:
		return "unknown"
	case KindSIGQUIT:
		return "sigquit"
	case KindTestTimeout:
		return "test timeout"
	case KindDeadlock:
		return "deadlock"
	case KindPanic:
		return "panic"
	case KindFatal:
		return "fatal error"
	case KindProfile:
		return "profile"
	case KindRace:
		return "race"
	}
	return "DumpKind(" + strconv.Itoa(int(k)) + ")"
}

// Frame is one function call in a stack.
type Frame struct {
	Func    string // fully qualified as printed: "example.com/bank.(*Account).Lock"
	Args    string // raw text between the parentheses ("0xc000012345, 0x1", "...", "")
	File    string // as printed (absolute, or relative with -trimpath)
	Line    int
	Offset  uint64 // the +0x.. pc offset; 0 when absent
	Inlined bool   // printed as "name(...)" with no offset
}

// Goroutine is one goroutine (or, for aggregated profiles, one stack with
// Count goroutines).
type Goroutine struct {
	ID               int64  // 0 for aggregated profiles
	State            string // wait reason as printed: "chan receive", "sync.Mutex.Lock", "running", "semacquire"
	WaitMinutes      int    // the ", N minutes" field; 0 when absent
	Locked           bool   // "locked to thread"
	Bubble           int64  // synctest bubble id; 0 when none
	Durable          bool   // "(durable)"
	Leaked           bool   // "(leaked)"
	Labels           map[string]string
	Frames           []Frame // innermost first
	ElidedFrames     int     // frames the runtime elided; -1 for the old "...additional frames elided..."
	CreatedBy        *Frame  // the "created by" frame, nil for goroutine 1 and runtime roots
	ParentID         int64   // from "created by F in goroutine N"; 0 when not printed
	Ancestors        []Ancestor
	Count            int  // 1 for tracebacks; the sample count for aggregated profiles
	StackUnavailable bool // "goroutine running on other thread; stack unavailable"
	Truncated        bool // the input ended inside this goroutine
	// Race is set in race reports: the access whose stack Frames is,
	// as printed ("Read at 0x00c0000a4018 by goroutine 8", "Previous
	// write at 0x00c0000a4018 by main goroutine"). CreatedBy is then the
	// first frame of "Goroutine N (running) created at:", State is
	// "running" or "finished" as that line says ("running" for the
	// goroutine of the current access when it has no such line).
	Race string
}

// Ancestor is an "[originating from goroutine N]:" block (GODEBUG=tracebackancestors).
type Ancestor struct {
	ID        int64
	Frames    []Frame
	CreatedBy *Frame
}
