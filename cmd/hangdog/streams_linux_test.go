package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

// TestE2ERecordedStreams replays go test -json streams recorded under every
// Go release from 1.20 on (testdata/streams/gen.sh) through the real binary
// with --raw-command. Each stream ends in the testing package's own timeout
// dump: hangdog must name the hung test and where it waits, whatever the
// release printed.
func TestE2ERecordedStreams(t *testing.T) {
	t.Parallel()
	type want struct {
		test, location string
		states         []string // acceptable states: older releases say semacquire
	}
	wants := map[string]want{
		"mutexcycle": {"TestConcurrentTransfers", "bank_test.go:30", []string{"sync.WaitGroup.Wait"}},
		"chanrecv":   {"TestStartMissingFile", "worker_test.go:23", []string{"chan receive"}},
		"wgsubtest":  {"TestProcessAll/blank_items", "fanout.go:26", []string{"sync.WaitGroup.Wait"}},
		"cleanup":    {"TestEcho", "server.go:61", []string{"chan receive"}},
		"busyloop":   {"TestWaitWarmEmpty", "warm.go:29", []string{"running", "runnable"}},
		"parallel":   {"TestLookup", "registry.go:35", []string{"sync.Mutex.Lock"}},
		"childwait":  {"TestMigrate", "migrate.go:12", []string{"syscall", "chan receive", "IO wait"}},
		"multipkg":   {"TestPublishNoHandler", "notify.go:27", []string{"chan send"}},
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "streams", "go1.*"))
	if len(dirs) == 0 {
		t.Fatal("no recorded streams")
	}
	for _, dir := range dirs {
		for fix, w := range wants {
			file, _ := filepath.Abs(filepath.Join(dir, fix+".json"))
			if _, err := os.Stat(file); err != nil {
				continue
			}
			t.Run(filepath.Base(dir)+"/"+fix, func(t *testing.T) {
				t.Parallel()
				r := runHangdog(t, t.TempDir(), "--stall", "1h", "--raw-command", "--", "cat", file)
				if r.code != watchdog.ExitHung {
					t.Errorf("exit code %d, want %d", r.code, watchdog.ExitHung)
				}
				h := findHang(t, r, w.test)
				if h.Capture != "timeout" {
					t.Errorf("capture = %q, want timeout", h.Capture)
				}
				if !strings.HasSuffix(h.Location, w.location) {
					t.Errorf("location = %q, want suffix %q", h.Location, w.location)
				}
				ok := false
				for _, s := range w.states {
					ok = ok || h.State == s
				}
				if !ok {
					t.Errorf("state = %q, want one of %q", h.State, w.states)
				}
				if h.Phase != watchdog.PhaseTest && !(fix == "cleanup" && h.Phase == watchdog.PhaseCleanup) {
					t.Errorf("phase = %q", h.Phase)
				}
			})
		}
	}
}

// errorLinesCheck checks hangdog's JUnit file and GitHub annotations for the
// failed tests of the errors fixture (watchdog/internal/testjson/testdata/
// fixtures/errors). typed: the stream came from Go 1.27+, whose output
// events say which lines are errors; messages are then made of those.
func errorLinesCheck(t *testing.T, r result, junitFile string, typed bool) {
	t.Helper()
	if r.code != watchdog.ExitFailed {
		t.Errorf("exit code %d, want %d", r.code, watchdog.ExitFailed)
	}
	b, err := os.ReadFile(junitFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit: %v", err)
	}
	want := map[string]string{ // Go 1.26 and before: the last logged line
		"TestLogAfterError": "errors_test.go:21: after the error: cleanup.go:12: looks like a location",
		"TestMultiLine":     "errors_test.go:27: stop",
		"TestParent":        "errors_test.go:44: parent log after",
		"TestParent/child":  "errors_test.go:43: child error",
	}
	annot := "::error file=errors_test.go,line=21,title=FAIL example.com/errors TestLogAfterError::errors_test.go:21: after the error"
	if typed {
		want = map[string]string{
			"TestLogAfterError": "errors_test.go:20: got 1, want 2",
			"TestMultiLine":     "errors_test.go:26: mismatch:\n    -want\n    +got\nerrors_test.go:27: stop",
			"TestParent":        "Failed",
			"TestParent/child":  "errors_test.go:43: child error",
		}
		annot = "::error file=errors_test.go,line=20,title=FAIL example.com/errors TestLogAfterError::errors_test.go:20: got 1, want 2\n"
	}
	for _, c := range doc.Cases {
		msg, ok := want[c.Name]
		if !ok {
			continue
		}
		delete(want, c.Name)
		if c.Failure == nil || c.Failure.Message != msg {
			t.Errorf("%s: failure %+v, want message %q", c.Name, c.Failure, msg)
		} else if !strings.Contains(c.Failure.Body, "--- FAIL: "+c.Name) {
			t.Errorf("%s: the body lost the test's framing: %q", c.Name, c.Failure.Body)
		}
	}
	if len(want) > 0 {
		t.Errorf("no testcase for %v", want)
	}
	if !strings.Contains(r.stdout, annot) {
		t.Errorf("no annotation %q in:\n%s", annot, r.stdout)
	}
	if n := strings.Count(r.stdout, "title=FAIL example.com/errors TestParent::"); typed && n > 0 || !typed && n == 0 {
		t.Errorf("%d annotations of TestParent (typed %v): a parent that only fails for its subtest has no error of its own", n, typed)
	}
}

// errorsFixture is the directory of the errors fixture module.
func errorsFixture(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "watchdog", "internal", "testjson", "testdata", "fixtures", "errors"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestE2EErrorLines replays the errors fixture as Go 1.27.3 and Go 1.26.8
// recorded it through the real binary, as on GitHub Actions with a JUnit
// file: from 1.27 on, failure messages and annotations are the test's error
// lines; before, what they always were.
func TestE2EErrorLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file  string
		typed bool
	}{{"go1.27/errors.json", true}, {"errors.json", false}} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			file, _ := filepath.Abs(filepath.Join("..", "..", "watchdog", "internal", "testjson", "testdata", tc.file))
			junit := filepath.Join(t.TempDir(), "junit.xml")
			// In the fixture's module, where annotations find the files.
			r := runHangdogEnv(t, errorsFixture(t), []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="},
				"--stall", "1h", "--junitfile", junit, "--raw-command", "--", "cat", file)
			errorLinesCheck(t, r, junit, tc.typed)
		})
	}
}
