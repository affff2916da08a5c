package gotest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/report"
)

// TestDiagnose reads a real -timeout dump: one diagnosis per stalled test,
// in the order asked, each with a phase, a state, the test's goroutines
// and a summary that names it; and one for the package with no test.
func TestDiagnose(t *testing.T) {
	t.Parallel()
	ds, err := ReadDumps(bytes.NewReader(readFixture(t, "go1.26", "timeout.txt")))
	if err != nil || len(ds) != 1 {
		t.Fatalf("%d dumps, %v", len(ds), err)
	}
	d := ds[0]
	tests := RunningLeaves(d.RunningTests)
	if len(tests) < 2 {
		t.Fatalf("running tests %v", tests)
	}
	diag := Diagnose(d, DiagInput{Pkg: "example.com/x", Tests: tests, Phase: PhaseTest})
	if len(diag) != len(tests) {
		t.Fatalf("%d diagnoses for %d tests", len(diag), len(tests))
	}
	for i, g := range diag {
		if g.Test != tests[i] {
			t.Errorf("diagnosis %d is of %q, want %q", i, g.Test, tests[i])
		}
		if g.Phase != report.PhaseTest && g.Phase != report.PhaseCleanup {
			t.Errorf("%s: phase %q", g.Test, g.Phase)
		}
		if g.State == "" || len(g.Goroutines) == 0 || !strings.HasPrefix(g.Summary, g.Test) {
			t.Errorf("%s: state %q, %d goroutine groups, summary %q", g.Test, g.State, len(g.Goroutines), g.Summary)
		}
	}
	main := Diagnose(d, DiagInput{Pkg: "example.com/x", Phase: PhaseTestMain})
	if len(main) != 1 || main[0].Test != "" || main[0].Phase != PhaseTestMain || main[0].Summary == "" {
		t.Errorf("package-level diagnosis %+v", main)
	}
}
