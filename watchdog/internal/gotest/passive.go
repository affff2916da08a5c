package gotest

// This file collects the goroutine dumps in a package's output: the one
// hangdog's SIGQUIT produces, and those the binary prints by itself.

import (
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// writeFile is the dump file a collector writes.
type writeFile interface {
	WriteString(string) (int, error)
	Close() error
}

// collector writes the output of one package to a dump file while a
// goroutine dump is expected in it: after hangdog sent SIGQUIT (active), or
// after the binary started printing its own timeout or deadlock dump
// (passive). Its methods are called with the stream's mutex held.
type collector struct {
	pkg       string
	path      string
	f         writeFile
	passive   bool
	reason    string   // passive: the first line of the dump
	leaves    []string // passive: running leaf tests when the dump began
	lastWrite time.Time
	err       error
	done      chan struct{}
	finished  bool
}

func newCollector(pkg, path string, f writeFile, now time.Time) *collector {
	return &collector{pkg: pkg, path: path, f: f, lastWrite: now, done: make(chan struct{})}
}

// take records ev and says whether it should still reach the formatter.
// While hangdog captures a dump, the dump goes to the file only: it is
// thousands of lines that the diagnosis replaces. go's own closing line
// for the package still shows.
func (c *collector) take(ev *testjson.Event, now time.Time) bool {
	if ev.Action != testjson.ActionOutput {
		return true
	}
	if !c.passive && ev.Test == "" && strings.HasPrefix(ev.Output, "FAIL\t") {
		return true
	}
	if c.err == nil {
		_, c.err = c.f.WriteString(ev.Output)
	}
	c.lastWrite = now
	return c.passive
}

func (c *collector) finish() {
	if !c.finished {
		c.finished = true
		close(c.done)
	}
}

// isDumpStart reports whether a line of output starts a goroutine dump that
// the test binary prints by itself. The timeout banner may follow text that
// a test printed without a final newline ("waiting...panic: test timed
// out after 2s"), so it is looked for anywhere in the line.
func isDumpStart(s string) bool {
	return strings.Contains(s, "panic: test timed out after ") ||
		strings.HasPrefix(s, "fatal error: all goroutines are asleep")
}

// startPassive begins collecting a dump that the test binary prints by
// itself (its -timeout alarm, or the runtime's deadlock detector). Called
// with s.mu held, before the event reaches the core.
func (s *Stream) startPassive(ev *testjson.Event, now time.Time) {
	path := s.a.host.ArtifactPath(ev.Package, "goroutines.txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		s.a.host.Warn(fmt.Sprintf("save dump of %s: %v", ev.Package, err))
		return
	}
	c := newCollector(ev.Package, path, f, now)
	c.passive = true
	c.reason = strings.TrimSpace(ev.Output)
	if i := strings.Index(c.reason, "panic: test timed out after "); i > 0 {
		c.reason = c.reason[i:] // after output with no final newline
	}
	c.leaves = s.sink.RunningLeaves(ev.Package)
	s.collectors[ev.Package] = c
	c.take(ev, now)
	s.wg.Add(1)
	s.log.Info("dump in output", zap.String("package", ev.Package), zap.String("reason", c.reason))
	go func() {
		<-c.done
		s.mu.Lock()
		if s.collectors[c.pkg] == c {
			delete(s.collectors, c.pkg)
		}
		s.mu.Unlock()
		s.diagnosePassive(c)
	}()
}

// diagnosePassive explains a dump the binary printed by itself and hands
// its hangs to the core.
func (s *Stream) diagnosePassive(c *collector) {
	defer s.wg.Done()
	if err := c.f.Close(); err != nil && c.err == nil {
		c.err = err
	}
	d, _ := ParseDumpFile(c.path)
	if d == nil {
		return
	}
	hangs, ok := s.a.DumpHangs(d, c.pkg, c.leaves, c.reason)
	if !ok {
		return
	}
	for _, h := range hangs {
		h.Artifacts = map[string]string{"dump": c.path}
	}
	s.sink.Found(c.pkg, hangs)
}

// DumpHangs diagnoses a dump that a test binary printed by itself (its
// -timeout alarm, the runtime's deadlock detector, a SIGQUIT sent by
// someone else): one Hang per test of its running list (else of leaves,
// the tests running when it began), with how long each had run. ok is
// false for a dump that shows no hang (a panic, a stack print).
func (a *Adapter) DumpHangs(d *stackparse.Dump, pkg string, leaves []string, reason string) ([]*Hang, bool) {
	tests := RunningLeaves(d.RunningTests)
	if len(tests) == 0 {
		tests = leaves
	}
	if len(tests) == 0 && d.Kind == stackparse.KindTestTimeout {
		// The alarm fires only while tests run: with no list (Go
		// before 1.20) and no log to tell, the tests are those whose
		// functions the dump shows running.
		tests = DumpTests(d)
	}
	phase := PhaseTest
	if len(tests) == 0 {
		phase = PhaseTestMain
	}
	capture := "timeout"
	switch d.Kind {
	case stackparse.KindDeadlock:
		capture = "deadlock"
	case stackparse.KindSIGQUIT:
		capture = "sigquit"
	case stackparse.KindTestTimeout:
	case stackparse.KindRace:
		return nil, false // a data race report: the program goes on
	default:
		if len(tests) == 0 {
			return nil, false
		}
	}
	durations := make(map[string]time.Duration)
	for _, rt := range d.RunningTests {
		durations[rt.Name] = rt.Duration
	}
	diag := Diagnose(d, DiagInput{Pkg: pkg, Tests: tests, Phase: phase, Modules: a.Look.Modules(), Base: a.Look.Dir})
	hangs := make([]*Hang, 0, len(diag))
	for _, g := range diag {
		h := &Hang{Test: g.Test, Phase: g.Phase, State: g.State, Location: g.Location, Summary: g.Summary, Goroutines: g.Goroutines}
		hangs = append(hangs, h)
		h.Package = pkg
		h.Capture = capture
		h.StalledForSeconds = durations[h.Test].Seconds()
		if h.Goroutines == nil {
			h.Goroutines = []GoroutineGroup{}
		}
		h.Summary += " [" + reason + "]"
	}
	return hangs, true
}

// ParseDumpFile reads a dump file and returns the dump that matters: the
// last one with goroutines (a crash after a SIGQUIT prints two).
func ParseDumpFile(path string) (*stackparse.Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dumps, err := stackparse.Parse(f)
	var best *stackparse.Dump
	for _, d := range dumps {
		if len(d.Goroutines) > 0 && d.Kind != stackparse.KindRace {
			best = d
		}
	}
	return best, err
}
