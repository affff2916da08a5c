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
