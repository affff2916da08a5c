package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog"
)

func streamFile(t *testing.T, goVersion, fixture string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "streams", goVersion, fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ciLog turns a recorded stream into what a CI log of the same run looks
// like: with -json, or as plain go test -v output, timestamps before every
// line.
func ciLog(t *testing.T, stream string, asJSON bool) string {
	t.Helper()
	b, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if asJSON {
			out.WriteString("2024-05-01T10:00:00.1234567Z " + line)
			continue
		}
		var e struct{ Action, Output string }
		if err := jsonUnmarshal(line, &e); err != nil || e.Action != "output" {
			continue
		}
		for _, l := range strings.SplitAfter(e.Output, "\n") {
			if l != "" {
				out.WriteString("2024-05-01T10:00:00.1234567Z " + l)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "ci.log")
	if err := os.WriteFile(p, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestE2EAnalyze(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, goVersion, fixture, test, location string
		input                                    func(t *testing.T, stream string) string
	}{
		{"json stream", "go1.26", "mutexcycle", "TestConcurrentTransfers", "bank_test.go:30", func(t *testing.T, s string) string { return s }},
		{"CI log of go test -json", "go1.23", "wgsubtest", "TestProcessAll/blank_items", "fanout.go:26", func(t *testing.T, s string) string { return ciLog(t, s, true) }},
		{"CI log of go test -v", "go1.21", "wgsubtest", "TestProcessAll/blank_items", "fanout.go:26", func(t *testing.T, s string) string { return ciLog(t, s, false) }},
		{"plain log, Go 1.20", "go1.20", "cleanup", "TestEcho", "server.go:61", func(t *testing.T, s string) string { return ciLog(t, s, false) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.input(t, streamFile(t, tc.goVersion, tc.fixture))
			junit := filepath.Join(t.TempDir(), "junit.xml")
			r := runHangdog(t, t.TempDir(), "analyze", "--junitfile", junit, in)
			if r.code != watchdog.ExitHung {
				t.Fatalf("exit code %d", r.code)
			}
			h := findHang(t, r, tc.test)
			if !strings.HasSuffix(h.Location, tc.location) || h.Capture != "timeout" {
				t.Errorf("location %q capture %q", h.Location, h.Capture)
			}
			if b, err := os.ReadFile(junit); err != nil || !strings.Contains(string(b), `type="hang"`) {
				t.Errorf("junit: %v\n%s", err, b)
			}
		})
	}
}

// TestE2EAnalyzeCutStream: a saved stream that ends while a test runs (CI
// killed the job; no dump) still names the test and how long it was quiet,
// measured in the stream's own time.
func TestE2EAnalyzeCutStream(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(streamFile(t, "go1.26", "chanrecv"))
	if err != nil {
		t.Fatal(err)
	}
	// Cut before the dump.
	s := string(b)
	s = s[:strings.Index(s, "panic: test timed out")]
	s = s[:strings.LastIndex(s, "\n")+1]
	// And a last event much later, as the job's end.
	s += `{"Time":"2099-01-01T00:00:00Z","Action":"output","Package":"other","Output":"x\n"}` + "\n"
	in := filepath.Join(t.TempDir(), "cut.json")
	if err := os.WriteFile(in, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runHangdog(t, t.TempDir(), "analyze", "--stall", "1m", in)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d", r.code)
	}
	h := findHang(t, r, "TestStartMissingFile")
	if h.Capture != "none" || h.StalledForSeconds < 60 || !strings.Contains(h.Summary, "the stream ends") {
		t.Errorf("hang %+v", h)
	}
}

// TestE2EAnalyzeLive pipes a stream that pauses in the middle of a test
// into hangdog analyze -: the stall is announced while it happens, and the
// report says that nothing could be captured from a stream.
func TestE2EAnalyzeLive(t *testing.T) {
	t.Parallel()
	stream := streamFile(t, "go1.26", "chanrecv")
	b, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(b), `"Test":"TestStartMissingFile","Output":"=== RUN`)
	cut = strings.Index(string(b)[cut:], "\n") + cut + 1
	head := filepath.Join(t.TempDir(), "head.json")
	tail := filepath.Join(t.TempDir(), "tail.json")
	os.WriteFile(head, b[:cut], 0o600)
	os.WriteFile(tail, b[cut:], 0o600)
	r := runHangdogShell(t, "cat "+head+"; sleep 4; cat "+tail, "analyze", "--stall", "2s", "-")
	if !strings.Contains(r.stderr, "hangdog: STALL example.com/chanrecv TestStartMissingFile") {
		t.Errorf("no live stall announcement:\n%s", r.stderr)
	}
	h := findHang(t, r, "TestStartMissingFile")
	if !strings.Contains(h.CaptureError, "no test binary can be captured") {
		t.Errorf("capture error %q", h.CaptureError)
	}
}

// TestE2EAnalyzeOldTimeout: a Go 1.16 and 1.12 timeout has no running
// tests list. With -v, the log's "=== RUN" lines without a result name the
// tests the dump interrupted (subtests by name); without them, the tests
// whose functions the dump shows running. Never a "testmain" hang with no
// test.
func TestE2EAnalyzeOldTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rel, file string
		want      map[string]string // test -> location suffix
	}{
		{"go1.16", "mycorp_timeout_v.txt", map[string]string{
			"TestForkedLock": "xsync/sema.go:28", "TestPinned": "hang/hang.go:25",
			"TestParallelParent/a": "hang/hang.go:19", "TestParallelParent/b": "hang/hang.go:19", "TestSeqParent/inner": "hang/hang.go:19",
		}},
		{"go1.12", "mycorp_timeout_v.txt", map[string]string{
			"TestForkedLock": "xsync/sema.go:28", "TestPinned": "hang/hang.go:25",
			"TestParallelParent/a": "hang/hang.go:19", "TestParallelParent/b": "hang/hang.go:19", "TestSeqParent/inner": "hang/hang.go:19",
		}},
		{"go1.16", "mycorp_timeout.txt", map[string]string{
			"TestForkedLock": "xsync/sema.go:28", "TestPinned": "hang/hang.go:25",
			"TestParallelParent/… (goroutine 6)": "hang/hang.go:19", "TestParallelParent/… (goroutine 7)": "hang/hang.go:19", "TestSeqParent/… (goroutine 9)": "hang/hang.go:19",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.rel+"/"+tc.file, func(t *testing.T) {
			t.Parallel()
			in, err := filepath.Abs(filepath.Join("..", "..", "stackparse", "testdata", "dumps", tc.rel, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r := runHangdog(t, t.TempDir(), "analyze", in)
			if r.code != watchdog.ExitHung {
				t.Fatalf("exit code %d\n%s", r.code, r.stderr)
			}
			if len(r.report.Hangs) != len(tc.want) {
				for _, h := range r.report.Hangs {
					t.Logf("hang %q %s at %s", h.Test, h.Phase, h.Location)
				}
				t.Errorf("%d hangs, want %d", len(r.report.Hangs), len(tc.want))
			}
			for test, loc := range tc.want {
				h := findHang(t, r, test)
				if h.Phase != watchdog.PhaseTest || !strings.HasSuffix(h.Location, loc) || h.Package != "mycorp/platform/hang" {
					t.Errorf("%s: %s %s at %s", test, h.Package, h.Phase, h.Location)
				}
			}
		})
	}
}

// TestE2EAnalyzeStackUnavailable: in a Go 1.23 -json stream, the one
// running test's goroutine has no stack (it spins where it cannot be
// stopped): it is still that test's.
func TestE2EAnalyzeStackUnavailable(t *testing.T) {
	t.Parallel()
	in, err := filepath.Abs(filepath.Join("..", "..", "stackparse", "testdata", "dumps", "go1.23", "mycorp_spin.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := runHangdog(t, t.TempDir(), "analyze", in)
	if r.code != watchdog.ExitHung {
		t.Fatalf("exit code %d\n%s", r.code, r.stderr)
	}
	h := findHang(t, r, "TestSpin")
	if len(h.Goroutines) != 1 || h.Goroutines[0].Role != "test" || h.State != "running" || !strings.Contains(h.Summary, "the test is running (busy)") {
		t.Errorf("TestSpin: %q %+v", h.Summary, h.Goroutines)
	}
}
