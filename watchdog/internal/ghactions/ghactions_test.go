package ghactions

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/reporttest"
	"github.com/hangdog/hangdog/watchdog/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadRun reads testdata/run.json, the fixture built from real recorded
// streams by ../htmlreport/testdata/genrun.
func loadRun(t *testing.T) *report.Run {
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
		t.Errorf("%s differs from the output (run with -update to accept it); got:\n%s", path, got)
	}
}

func TestAnnotationsGolden(t *testing.T) {
	t.Parallel()
	run := loadRun(t)
	for _, tc := range []struct{ name, root string }{
		{"annotations.txt", ""},                        // root = the report's Dir
		{"annotations-parent.txt", "/home/ci"},         // Dir below the repository root
		{"annotations-outside.txt", "/somewhere/else"}, // locations outside: no file
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Annotations(&buf, run, tc.root); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
			for line := range strings.Lines(buf.String()) {
				if !strings.HasPrefix(line, "::error ") || strings.Count(line, "\n") != 1 {
					t.Errorf("not one workflow command: %q", line)
				}
			}
		})
	}
}

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := StepSummary(&buf, loadRun(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.md", buf.Bytes())
}

// A failed test is annotated at its t.Error line when the file is found in
// the package's directory, through the module's go.mod.
func TestAnnotationsFailedTest(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mod := filepath.Join(root, "svc")
	write := func(name, s string) {
		t.Helper()
		p := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/svc\n\ngo 1.26\n")
	write("calc/calc_test.go", "package calc\n")
	run := &report.Run{
		Report: &report.Report{Dir: mod},
		Tests: []report.TestRun{
			{Package: "example.com/svc/calc", Test: "TestDiv", Result: "fail",
				Output: "=== RUN   TestDiv\n    calc_test.go:18: a log\n    calc_test.go:20: Div(1, 0) = 0, want -1\n--- FAIL: TestDiv (0.02s)\n"},
			{Package: "example.com/svc/calc", Test: "TestGone", Result: "fail", // file does not exist
				Output: "    gone_test.go:3: boom\n--- FAIL: TestGone (0.00s)\n"},
			{Package: "example.com/svc/calc", Test: "TestParent", Result: "fail", // no line of its own
				Output: "=== RUN   TestParent\n--- FAIL: TestParent (0.00s)\n"},
			{Package: "example.org/other", Test: "TestX", Result: "fail", // not in the module
				Output: "    calc_test.go:20: x\n"},
		},
	}
	var buf bytes.Buffer
	if err := Annotations(&buf, run, root); err != nil {
		t.Fatal(err)
	}
	want := "::error file=svc/calc/calc_test.go,line=20,title=FAIL example.com/svc/calc TestDiv::calc_test.go:20: Div(1, 0) = 0, want -1\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"50%", "50%25", "50%25"},
		{"%0A", "%250A", "%250A"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"x:y,z", "x:y,z", "x%3Ay%2Cz"},
		{"::error::pwned\n::warning::x", "::error::pwned%0A::warning::x", "%3A%3Aerror%3A%3Apwned%0A%3A%3Awarning%3A%3Ax"},
	} {
		if got := escapeData(tc.in); got != tc.data {
			t.Errorf("escapeData(%q) = %q, want %q", tc.in, got, tc.data)
		}
		if got := escapeProperty(tc.in); got != tc.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tc.in, got, tc.prop)
		}
	}
}

// Untrusted names and summaries cannot start another command, break the
// Markdown, or inject HTML.
func TestHostile(t *testing.T) {
	t.Parallel()
	evil := "Test`x`</details><img src=x>|*_[a](b)\n::error::injected %0A"
	run := &report.Run{
		Report: &report.Report{Dir: "/r", Totals: report.Totals{Hung: 1}, Hangs: []*report.Hang{{
			Package: "p,:", Test: evil, Phase: report.PhaseTest, Summary: evil, Location: "a,b:c.go:7",
			Goroutines: []report.GoroutineGroup{{IDs: []int64{1}, Count: 1, State: "select", Location: "x.go:1",
				Stack: []string{"f ```\n```"}}},
		}}},
	}
	var buf bytes.Buffer
	if err := Annotations(&buf, run, ""); err != nil {
		t.Fatal(err)
	}
	want := "::error file=a%2Cb%3Ac.go,line=7,title=HANG p%2C%3A Test`x`</details><img src=x>|*_[a](b)%0A%3A%3Aerror%3A%3Ainjected %250A::" +
		"Test`x`</details><img src=x>|*_[a](b)%0A::error::injected %250A%0Aphase test, no progress for 0s (threshold 0s)%0A1 × [select] at x.go:1\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := StepSummary(&buf, run); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, bad := range []string{"<img", "</details><img", "\n::error"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary contains %q:\n%s", bad, md)
		}
	}
	if !strings.Contains(md, "````text\n") {
		t.Errorf("code block fence not longer than its content:\n%s", md)
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteError(t *testing.T) {
	t.Parallel()
	run := loadRun(t)
	if err := Annotations(failWriter{}, run, ""); !errors.Is(err, errWrite) {
		t.Errorf("Annotations: %v", err)
	}
	if err := StepSummary(failWriter{}, run); !errors.Is(err, errWrite) {
		t.Errorf("StepSummary: %v", err)
	}
}

func TestEmptyRun(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Annotations(&buf, &report.Run{}, ""); err != nil || buf.Len() != 0 {
		t.Errorf("Annotations of an empty run: %q, %v", buf.String(), err)
	}
	if err := StepSummary(&buf, &report.Run{}); err != nil || !strings.Contains(buf.String(), "## hangdog: 0 passed") {
		t.Errorf("StepSummary of an empty run: %q, %v", buf.String(), err)
	}
}

// TestSummaryNoTimes: an analysed log without times says so in the time
// column instead of an invented 0s.
func TestSummaryNoTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rp   *report.Report
		want string
	}{
		{&report.Report{Times: report.TimesNone}, "| 0 | no times |"},
		{&report.Report{Times: report.TimesEvents, DurationSeconds: 4.01}, "| 0 | 4s |"},
	} {
		var buf bytes.Buffer
		if err := StepSummary(&buf, &report.Run{Report: tc.rp}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("times %q: summary lacks %q:\n%s", tc.rp.Times, tc.want, buf.String())
		}
	}
}

// streamRun reads a recorded go test -json stream into a report.Run
// (reporttest.StreamRun).
func streamRun(t *testing.T, file, dir string) *report.Run {
	t.Helper()
	run, err := reporttest.StreamRun(file, dir)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestAnnotationsErrorLines: on Go 1.27.3's stream of the errors fixture an
// annotation is made of the test's error lines and sits at its last error;
// a test with none (a parent failing for its subtest) gets none. On Go
// 1.26.8's stream of the same tests they are what they always were: the
// last logged line.
func TestAnnotationsErrorLines(t *testing.T) {
	t.Parallel()
	const dir = "../testjson/testdata/"
	mod, err := filepath.Abs(dir + "fixtures/errors")
	if err != nil {
		t.Fatal(err)
	}
	long := "errors_test.go:32: long: " + strings.Repeat("abcdefghij", 150)
	for _, tc := range []struct {
		file string
		want []string // "TEST LINE MESSAGE", in run order
	}{
		{dir + "go1.27/errors.json", []string{
			"TestLogAfterError 20 errors_test.go:20: got 1, want 2",
			"TestMultiLine 27 errors_test.go:26: mismatch:%0A    -want%0A    +got%0Aerrors_test.go:27: stop",
			"TestLongError 32 " + long,
			"TestMarkers 37 errors_test.go:37: markers \x0f \x0e \x1b here",
			"TestParent/child 43 errors_test.go:43: child error",
			"TestPanicAfterError 49 errors_test.go:49: before the panic",
		}},
		{dir + "errors.json", []string{
			"TestLogAfterError 21 errors_test.go:21: after the error: cleanup.go:12: looks like a location",
			"TestMultiLine 27 errors_test.go:27: stop",
			"TestLongError 32 " + long,
			"TestMarkers 37 errors_test.go:37: markers \x0f \x0e \x1b here",
			"TestParent/child 43 errors_test.go:43: child error",
			"TestParent 44 errors_test.go:44: parent log after",
			"TestPanicAfterError 49 errors_test.go:49: before the panic",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Annotations(&buf, streamRun(t, tc.file, mod), mod); err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(`^::error file=errors_test.go,line=(\d+),title=FAIL example.com/errors (\S+)::(.*)$`)
			var got []string
			for line := range strings.Lines(buf.String()) {
				m := re.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
				if m == nil {
					t.Fatalf("unexpected annotation %q", line)
				}
				got = append(got, m[2]+" "+m[1]+" "+m[3])
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
