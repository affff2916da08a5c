package htmlreport

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/hangdog/hangdog/watchdog/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadRun reads testdata/run.json, the fixture built from real recorded
// streams by testdata/genrun.
func loadRun(t testing.TB) *report.Run {
	t.Helper()
	b, err := os.ReadFile("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	var run report.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	return &run
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept it)", path)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, loadRun(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", buf.Bytes())
}

func TestEmptyRun(t *testing.T) {
	t.Parallel()
	for _, run := range []*report.Run{{}, {Report: &report.Report{}}} {
		var buf bytes.Buffer
		if err := Write(&buf, run); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte("0 tests in 0 packages")) {
			t.Errorf("empty run:\n%s", buf.Bytes())
		}
	}
}

func TestTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		span float64
		n    int
		last string
	}{
		{14.8, 8, "14s"}, {1, 6, "1s"}, {0.05, 6, "50ms"}, {600, 7, "10m0s"}, {7, 8, "7s"},
	} {
		got := ticks(tc.span)
		if len(got) != tc.n || got[len(got)-1].Label != tc.last || got[0].Left != 0 {
			t.Errorf("ticks(%v) = %v", tc.span, got)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteError(t *testing.T) {
	t.Parallel()
	if err := Write(failWriter{}, loadRun(t)); err == nil {
		t.Error("no error from a failing writer")
	}
}

// TestFailMessageErrorLines: where the stream typed a failed test's output
// (Go 1.27+), the failed-tests table shows its error lines, not the last
// line it logged; an untyped stream keeps the old rule.
func TestFailMessageErrorLines(t *testing.T) {
	t.Parallel()
	out := "=== RUN   TestA\n    a_test.go:7: got 1, want 2\n    a_test.go:9: after the error: x.go:1: looks like a location\n--- FAIL: TestA (0.00s)\n"
	for _, tc := range []struct {
		name  string
		typed bool
		errs  string
		want  string
	}{
		{"typed", true, "    a_test.go:7: got 1, want 2\n", "a_test.go:7: got 1, want 2"},
		{"typed, no error lines", true, "", ""},
		{"untyped", false, "", "a_test.go:9: after the error: x.go:1: looks like a location"},
	} {
		tr := report.TestRun{Package: "p", Test: "TestA", Result: "fail", Output: out, Errors: tc.errs, OutputTyped: tc.typed}
		if got := failMessage(&tr); got != tc.want {
			t.Errorf("%s: failMessage = %q, want %q", tc.name, got, tc.want)
		}
	}
}
