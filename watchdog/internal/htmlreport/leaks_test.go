package htmlreport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/report"
)

// TestLeakSection: the page lists each leak with its goroutine groups.
func TestLeakSection(t *testing.T) {
	run := &report.Run{Report: &report.Report{Leaks: []*report.Leak{{
		Package: "example.com/leaky", Test: "TestSend", Run: 2, GraceSeconds: 1,
		Goroutines: []report.GoroutineGroup{{Count: 2, State: "chan send", Location: "leaky.go:15", Function: "example.com/leaky.FirstResult.func1",
			CreatedBy: "example.com/leaky.FirstResult", Stack: []string{"example.com/leaky.FirstResult.func1 /m/leaky.go:15"}}},
	}}}}
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`<h2>Leaked goroutines (1 test(s))</h2>`,
		`<h3>LEAK <code>example.com/leaky</code> <code>TestSend</code> (run 2)</h3>`,
		`still blocked 1s after the test ended`,
		`2 × <span class="state">[chan send]</span> at leaky.go:15`,
		"created by example.com/leaky.FirstResult\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(pageOf(t, &report.Run{Report: &report.Report{}}), `id="leaks"`) {
		t.Errorf("a run without leaks has a leaks section")
	}
}

func pageOf(t *testing.T, run *report.Run) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
