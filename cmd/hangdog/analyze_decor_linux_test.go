package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// TestE2EAnalyzeDecorated: analyze reads the timeout dumps of logs that
// other programs decorated (stackparse/testdata/dumps/decorated) as it reads
// the plain ones, and a race report is no hang.
func TestE2EAnalyzeDecorated(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ghtime_cut_go1.26", "powershell_go1.20", "ghlinks_go1.26", "fence_go1.20", "cutloc_go1.26", "unindent_trimpath_go1.26"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, _ := filepath.Abs(dumpFixture("decorated", name+".txt"))
			r := runHangdog(t, t.TempDir(), "analyze", in)
			if r.code != watchdog.ExitHung {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			h := findHang(t, r, "TestMutexLeaf")
			want := "waits.go:55"
			if strings.HasPrefix(name, "cutloc") {
				want = "hang_test.go:18" // lockMutex lost its line
			}
			if !strings.HasSuffix(h.Location, want) || h.State != "sync.Mutex.Lock" || h.Capture != "timeout" {
				t.Errorf("location %q state %q capture %q", h.Location, h.State, h.Capture)
			}
		})
	}
	// A SIGQUIT dump in a -v log that journald prefixed: the tests are
	// named from the log's "=== RUN" lines, which carry the prefix too
	// (before, the dump was a nameless [testmain] hang).
	for _, name := range []string{"journald_go1.20", "journald_go1.26"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, _ := filepath.Abs(dumpFixture("decorated", name+".txt"))
			r := runHangdog(t, t.TempDir(), "analyze", in)
			if r.code != watchdog.ExitHung || r.report == nil {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			var names []string
			for _, h := range r.report.Hangs {
				names = append(names, h.Test)
			}
			if got := strings.Join(names, " "); got != "TestMutexLeaf TestCleanupHang TestLockOrder TestWaits TestParent/chan TestParent/wg" {
				t.Errorf("hung tests %q", got)
			}
			h := findHang(t, r, "TestMutexLeaf")
			if !strings.HasSuffix(h.Location, "waits.go:55") || h.State != "sync.Mutex.Lock" || h.Capture != "sigquit" {
				t.Errorf("location %q state %q capture %q", h.Location, h.State, h.Capture)
			}
		})
	}
	t.Run("race", func(t *testing.T) {
		t.Parallel()
		in, _ := filepath.Abs(dumpFixture("go1.26", "race.txt"))
		r := runHangdog(t, t.TempDir(), "analyze", in)
		if r.code != watchdog.ExitFailed || r.report == nil || len(r.report.Hangs) != 0 {
			t.Fatalf("exit code %d\n%s", r.code, r.stderr)
		}
	})
}
