package main

import (
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// TestE2ELeakedConn: a test blocked reading a connection whose server side
// was dropped unclosed (testdata/hang/leakedconn) wakes with EOF at the
// first garbage collection, whose finalizer closes that side. hangdog's
// snapshots must not be that GC: the test stays stuck through both dumps
// and the profile window until --kill-after, and is reported as a hang.
// .ci/run runs this test three times, bench/soak-leakedconn.sh 20 times.
func TestE2ELeakedConn(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, fixture(t, "leakedconn"), "--stall", "2s", "--kill-after", "8s", "--", "-count=1", "./...")
	if r.code != watchdog.ExitHung {
		t.Errorf("exit code %d, want %d", r.code, watchdog.ExitHung)
	}
	h := findHang(t, r, "TestGetWithoutHello")
	if h.Phase != watchdog.PhaseTest || h.State != "IO wait" || !strings.HasSuffix(h.Location, "kv_test.go:25") {
		t.Errorf("phase %q, state %q at %q", h.Phase, h.State, h.Location)
	}
	if h.Capture != "snapshot" || h.Verdict != "stuck" || !h.Killed || h.Recovered {
		t.Errorf("capture %q, verdict %q, killed %v, recovered %v: the test did not stay stuck until the kill", h.Capture, h.Verdict, h.Killed, h.Recovered)
	}
	for _, k := range []string{"goroutines_1", "goroutines_2", "heap", "final_dump"} {
		if h.Artifacts[k] == "" {
			t.Errorf("no %s artifact: %v", k, h.Artifacts)
		}
	}
	// leakedconn never ran a GC: its heap profile is empty, and says so.
	if !strings.Contains(strings.Join(h.CaptureNotes, "\n"), "heap: the program has run no garbage collection yet") {
		t.Errorf("notes %q", h.CaptureNotes)
	}
	// Nothing ran on a CPU: no CPU profile, and the report says why.
	if h.Artifacts["cpu"] != "" || !strings.Contains(strings.Join(h.CaptureNotes, "\n"), "cpu: not taken: no goroutine was running") {
		t.Errorf("cpu artifact %q, notes %q", h.Artifacts["cpu"], h.CaptureNotes)
	}
	if strings.Contains(r.stdout, "read answer: EOF") || strings.Contains(r.stderr, "RECOVERED") {
		t.Errorf("the test was woken (a GC closed the dropped connection):\n%s", r.stdout)
	}
	if r.report.Totals.Passed != 1 || r.report.Totals.Failed != 0 || r.report.Totals.Hung != 1 {
		t.Errorf("totals %+v, want TestGet passed and one hang", r.report.Totals)
	}
}

// TestE2ETestMainDeadlock: a TestMain that deadlocks before m.Run crashes
// at once without the agent ("all goroutines are asleep"); with it, the
// agent's timer keeps the detector quiet and the binary hangs, and the
// diagnosis says what the runtime would have said.
func TestE2ETestMainDeadlock(t *testing.T) {
	t.Parallel()
	const fatal = "fatal error: all goroutines are asleep - deadlock!"
	for _, agent := range []bool{true, false} {
		args := stallArgs
		if !agent {
			args = append([]string{"--no-agent"}, stallArgs...)
		}
		r := runHangdog(t, fixture(t, "testmaindeadlock"), args...)
		if r.code != watchdog.ExitHung {
			t.Errorf("agent %v: exit code %d, want %d", agent, r.code, watchdog.ExitHung)
		}
		h := findHang(t, r, "")
		if h.Phase != watchdog.PhaseTestMain || h.State != "chan receive" || !strings.HasSuffix(h.Location, "schema_test.go:12") {
			t.Errorf("agent %v: phase %q, state %q at %q", agent, h.Phase, h.State, h.Location)
		}
		switch {
		case agent && (h.Capture != "snapshot" || !strings.Contains(h.Summary, "without hangdog's agent") || !strings.Contains(h.Summary, fatal)):
			t.Errorf("with the agent: capture %q, summary %q", h.Capture, h.Summary)
		case !agent && (h.Capture != "deadlock" || strings.Contains(h.Summary, "without hangdog's agent")):
			t.Errorf("without the agent: capture %q, summary %q", h.Capture, h.Summary)
		}
	}
}

// TestE2ETestMainSleepNoDeadlockNote: a TestMain that sleeps in a poll loop
// is not a deadlock the runtime would see: no such note.
func TestE2ETestMainSleepNoDeadlockNote(t *testing.T) {
	t.Parallel()
	r := runHangdog(t, fixture(t, "testmain"), stallArgs...)
	h := findHang(t, r, "")
	if h.Capture != "snapshot" || strings.Contains(h.Summary, "deadlock") {
		t.Errorf("capture %q, summary %q", h.Capture, h.Summary)
	}
}
