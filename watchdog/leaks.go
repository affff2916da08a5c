package watchdog

// This file holds the run's side of the leak check: collecting, as each
// test binary exits, what the agent's check found (gotest.Leaks), and the
// leaks' section of the text summary. The engine calls, with e.mu held:
//
//	newLeakState(inj, base)  once the agent is prepared (nil: check off)
//	e.warnNoLeakCheck()      then: says so when the check cannot run
//	leaks.unitEnded(pkg)     on a package's final event (its binary exited)
//	leaks.fill(rep)          when the report is made, before the exit code
//	writeLeaks(b, leaks)     from the summary
//
// `hangdog analyze` reads a log's LEAK lines back (leakLog): the text log
// feeds it every line, and the engine takes its state at the end.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/agent"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/report"
)

// DefaultLeakGrace is how long a test's goroutines may outlive it before
// they count as leaked: more than goleak's default retry loop (20 tries,
// sleeping 1µs doubling up to 100 ms: about 0.43 s) tolerates.
const DefaultLeakGrace = time.Second

// leakGrace is the grace period of the leak check, 0 when it is off.
func (c *Config) leakGrace() time.Duration {
	switch {
	case !c.Leaks && !c.FailOnLeak:
		return 0
	case c.LeakGrace > 0:
		return c.LeakGrace
	}
	return DefaultLeakGrace
}

// leakState gathers the leak check's results of one live run. A nil
// *leakState (no agent, or the check off) does nothing.
type leakState struct {
	dir, base string
	leaks     []*report.Leak
	checks    []report.LeakCheck
	warnings  []string
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
			l.checks = append(l.checks, report.LeakCheck{Package: p.ImportPath, Unchecked: gotest.UncheckedOwnTestMain})
		}
	}
	return l
}

// warnNoLeakCheck says, once, that the leak check was asked for and
// cannot run: the test binaries have no agent. Called once the agent is
// prepared, or not.
func (e *engine) warnNoLeakCheck() {
	if e.cfg.leakGrace() > 0 && e.inj == nil {
		e.warnOnce("leaks", "hangdog: the leak check needs the agent, which the test binaries do not have: no leak check")
	}
}

// unitEnded reads what the binaries of package pkg found: call it on the
// package's final event, when its binary has exited.
func (l *leakState) unitEnded(pkg string) {
	if l == nil {
		return
	}
	leaks, checks, err := gotest.Leaks(l.dir, pkg, l.base)
	l.leaks = append(l.leaks, leaks...)
	l.checks = append(l.checks, checks...)
	if err != nil {
		l.warnings = append(l.warnings, fmt.Sprintf("leak check: %v", err))
	}
}

// fill puts the leaks and checks into the report.
func (l *leakState) fill(rep *report.Report) {
	if l == nil {
		return
	}
	for _, lk := range l.leaks {
		lk.Unit = lk.Package
	}
	rep.Leaks = l.leaks
	rep.LeakChecks = l.checks
	rep.Warnings = append(rep.Warnings, l.warnings...)
}

// writeLeaks writes the leaks' section of the text summary: one LEAK line
// per test, then a line per group of goroutines.
//
//	hangdog: 2 test(s) left goroutines blocked after they ended:
//	  LEAK example.com/leaky TestSend (proven): 2 goroutines
//	      2 × chan send at leaky.go:15 in example.com/leaky.FirstResult.func1 (created by example.com/leaky.FirstResult)
func writeLeaks(b *strings.Builder, leaks []*report.Leak) {
	if len(leaks) == 0 {
		return
	}
	tests := map[string]bool{}
	for _, l := range leaks {
		tests[fmt.Sprintf("%s\x00%s\x00%d", l.Package, l.Test, l.Run)] = true
	}
	fmt.Fprintf(b, "\nhangdog: %d test(s) left goroutines blocked after they ended:\n", len(tests))
	for _, l := range leaks {
		n := 0
		for _, g := range l.Goroutines {
			n += g.Count
		}
		how := "blocked at the end"
		if l.Proven {
			how = "proven"
		}
		run := ""
		if l.Run > 1 {
			run = fmt.Sprintf(" (run %d)", l.Run)
		}
		fmt.Fprintf(b, "  LEAK %s %s%s [%s]: %d goroutine(s)\n", l.Package, l.Test, run, how, n)
		for _, g := range l.Goroutines {
			fmt.Fprintf(b, "      %d × %s", g.Count, g.State)
			if g.Location != "" {
				fmt.Fprintf(b, " at %s", g.Location)
			}
			if g.Function != "" {
				fmt.Fprintf(b, " in %s", g.Function)
			}
			if g.CreatedBy != "" {
				fmt.Fprintf(b, " (created by %s)", g.CreatedBy)
			}
			b.WriteByte('\n')
		}
	}
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

// state is the leak state of an analysed log: the leaks it printed.
func (l *leakLog) state() *leakState {
	if len(l.leaks) == 0 {
		return nil
	}
	return &leakState{leaks: l.leaks}
}
