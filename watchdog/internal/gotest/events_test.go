package gotest

import (
	"os"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
	"github.com/hangdog/hangdog/watchdog/report"
)

// trackStream runs a recorded go test -json stream, converted by Event,
// through a recording tracker and returns its test records by name.
func trackStream(t *testing.T, file string) map[string]report.TestRun {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := track.New(Runner{})
	tr.Record = true
	h := &eventFunc{fn: func(e *testjson.Event) {
		ce := Event(e)
		tr.Observe(&ce, e.Time)
	}}
	if err := testjson.Scan(f, h); err != nil {
		t.Fatal(err)
	}
	got := map[string]report.TestRun{}
	for _, r := range tr.Tests {
		got[r.Test] = r
	}
	return got
}

type eventFunc struct{ fn func(*testjson.Event) }

func (h *eventFunc) Event(e *testjson.Event, _ []byte) { h.fn(e) }
func (h *eventFunc) Text([]byte, bool)                 {}

// TestTrackerRecordsErrors reads the errors fixture as Go 1.27.3 and Go
// 1.26.8 recorded it: with 1.27's OutputType a failed test's record keeps
// its error lines apart from its logs and framing; the older stream has
// none and its records are as before.
func TestTrackerRecordsErrors(t *testing.T) {
	t.Parallel()
	const dir = "../testjson/testdata/"
	got := trackStream(t, dir+"go1.27/errors.json")
	want := map[string]string{
		"TestLogAfterError":   "    errors_test.go:20: got 1, want 2\n",
		"TestMultiLine":       "    errors_test.go:26: mismatch:\n        -want\n        +got\n    errors_test.go:27: stop\n",
		"TestLongError":       "    errors_test.go:32: long: " + strings.Repeat("abcdefghij", 150) + "\n",
		"TestMarkers":         "    errors_test.go:37: markers \x0f \x0e \x1b here\n",
		"TestParent":          "",
		"TestParent/child":    "    errors_test.go:43: child error\n",
		"TestPanicAfterError": "    errors_test.go:49: before the panic\n",
	}
	for name, errs := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: no record", name)
			continue
		}
		if r.Result != "fail" || !r.OutputTyped || r.Errors != errs {
			t.Errorf("%s: result %s, typed %v, errors %q; want fail, typed, %q", name, r.Result, r.OutputTyped, r.Errors, errs)
		}
		if !strings.Contains(r.Output, "--- FAIL: "+name) {
			t.Errorf("%s: framing lost from Output %q", name, r.Output)
		}
	}
	if r := got["TestLogAfterError"]; !strings.Contains(r.Output, "errors_test.go:21: after the error") {
		t.Errorf("logs lost from Output: %q", r.Output)
	}
	for name, r := range trackStream(t, dir+"errors.json") {
		if r.OutputTyped || r.Errors != "" {
			t.Errorf("go1.26 %s: typed %v, errors %q; want neither", name, r.OutputTyped, r.Errors)
		}
		if r.Result == "fail" && !strings.Contains(r.Output, "--- FAIL: "+name) {
			t.Errorf("go1.26 %s: output %q", name, r.Output)
		}
	}
}
