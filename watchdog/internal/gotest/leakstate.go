package gotest

// This file is the adapter's side of the leak check: collecting, as each
// test binary exits, what the agent's check found (Leaks), and, in
// hangdog analyze, reading back the LEAK lines of a run's summary. The
// engine takes the result at the end (core.LeakReporter).

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/report"
)

// DefaultLeakGrace is how long a test's goroutines may outlive it before
// they count as leaked: more than goleak's default retry loop (20 tries,
// sleeping 1µs doubling up to 100 ms: about 0.43 s) tolerates.
const DefaultLeakGrace = time.Second

// leakState gathers the leak check's results of one live run. A nil
// *leakState (no agent, or the check off) does nothing.
type leakState struct {
	dir, base string
	leaks     []*report.Leak
	checks    []report.LeakCheck
	warnings  []string
	mu        sync.Mutex // unitEnded (the stream) against LeakReport (the end)
}

// newLeakState returns the leak state of a run whose test binaries got
// the agent with the leak check on, else nil. Packages whose tests have a
// TestMain of their own are noted as unchecked at once.
func newLeakState(inj *agent.Injection, base string, grace time.Duration) *leakState {
	if inj == nil || grace <= 0 {
		return nil
	}
	l := &leakState{dir: inj.Dir, base: base}
	for _, p := range inj.Packages {
		if p.OwnTestMain {
			l.checks = append(l.checks, report.LeakCheck{Package: p.ImportPath, Unchecked: UncheckedOwnTestMain})
		}
	}
	return l
}

// unitEnded reads what the binaries of package pkg found: call it on the
// package's final event, when its binary has exited.
func (l *leakState) unitEnded(pkg string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	leaks, checks, err := Leaks(l.dir, pkg, l.base)
	l.leaks = append(l.leaks, leaks...)
	l.checks = append(l.checks, checks...)
	if err != nil {
		l.warnings = append(l.warnings, fmt.Sprintf("leak check: %v", err))
	}
}

// LeakReport implements core.LeakReporter: the leaks found, the checks'
// notes per binary, and warnings.
func (a *Adapter) LeakReport() ([]*report.Leak, []report.LeakCheck, []string) {
	a.mu.Lock()
	l := a.leaks
	a.mu.Unlock()
	if l == nil {
		return nil, nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lk := range l.leaks {
		lk.Unit = lk.Package
	}
	return l.leaks, l.checks, l.warnings
}

// leakLog reads back, in `hangdog analyze`, the leaks a run printed in its
// summary (writeLeaks): the LEAK lines and their group lines in a CI log
// of hangdog's output.
type leakLog struct {
	leaks []*report.Leak
	cur   *report.Leak
}

var (
	leakLineRE  = regexp.MustCompile(`^LEAK (\S+) (\S+)(?: \(run (\d+)\))? \[(proven|blocked at the end)\]: \d+ goroutine\(s\)$`)
	leakGroupRE = regexp.MustCompile(`^(\d+) × (.+?)(?: at (\S+))?(?: in (\S+))?(?: \(created by (\S+)\))?$`)
)

// line reads one line of the log, without its CI prefix and leading spaces.
func (l *leakLog) line(s string) {
	if m := leakLineRE.FindStringSubmatch(s); m != nil {
		run, _ := strconv.Atoi(m[3])
		if run == 0 {
			run = 1
		}
		l.cur = &report.Leak{Package: m[1], Unit: m[1], Test: m[2], Run: run, Proven: m[4] == "proven"}
		l.leaks = append(l.leaks, l.cur)
		return
	}
	if l.cur == nil {
		return
	}
	if m := leakGroupRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		l.cur.Goroutines = append(l.cur.Goroutines, report.GoroutineGroup{
			Count: n, Role: "helper", State: m[2], Location: m[3], Function: m[4], CreatedBy: m[5],
		})
		return
	}
	l.cur = nil
}

// Leaks returns the leaks an analysed log's summary printed.
func (l *leakLog) Leaks() []*report.Leak { return l.leaks }

// unitEnded reads the leak check's files of pkg, whose binary has exited.
func (a *Adapter) unitEnded(pkg string) {
	a.mu.Lock()
	l := a.leaks
	a.mu.Unlock()
	l.unitEnded(pkg)
}
