package ghactions

import (
	"bytes"
	"testing"

	"github.com/hangdog/hangdog/watchdog/report"
)

// TestLeakWarning: a leak is a warning at its goroutines' location, after
// the errors.
func TestLeakWarning(t *testing.T) {
	dir := t.TempDir()
	run := &report.Run{Report: &report.Report{Dir: dir,
		Hangs: []*report.Hang{{Package: "example.com/h", Test: "TestHang", Phase: report.PhaseTest, Summary: "stuck", Location: "h_test.go:3"}},
		Leaks: []*report.Leak{{Package: "example.com/leaky", Test: "TestSend", Run: 2, Proven: true, GraceSeconds: 1,
			Goroutines: []report.GoroutineGroup{{Count: 2, State: "chan send", Location: "leaky/leaky.go:15", CreatedBy: "example.com/leaky.FirstResult"}}}},
	}}
	var buf bytes.Buffer
	if err := Annotations(&buf, run, dir); err != nil {
		t.Fatal(err)
	}
	want := "::error file=h_test.go,line=3,title=HANG example.com/h TestHang::stuck%0Aphase test, no progress for 0s (threshold 0s)\n" +
		"::warning file=leaky/leaky.go,line=15,title=LEAK example.com/leaky TestSend (run 2)::goroutines proven leaked (nothing can wake them) 1s after the test ended%0A2 × [chan send] at leaky/leaky.go:15 (created by example.com/leaky.FirstResult)\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}
