package junit

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func xmllint(t *testing.T, doc []byte) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not found; install it with: apt-get install -y libxml2-utils")
	}
	f := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", "testdata/junit-10.xsd", f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, loadRun(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.xml", buf.Bytes())
}

func TestSchema(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, loadRun(t)); err != nil {
		t.Fatal(err)
	}
	xmllint(t, buf.Bytes())
}

// Parsed back, the document says what the run says.
type xSuite struct {
	Name     string  `xml:"name,attr"`
	Tests    int     `xml:"tests,attr"`
	Failures int     `xml:"failures,attr"`
	Errors   int     `xml:"errors,attr"`
	Skipped  int     `xml:"skipped,attr"`
	Cases    []xCase `xml:"testcase"`
}

type xCase struct {
	Class   string  `xml:"classname,attr"`
	Name    string  `xml:"name,attr"`
	Failure *xFault `xml:"failure"`
	Error   *xFault `xml:"error"`
	Skipped *xFault `xml:"skipped"`
}

type xFault struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func parse(t *testing.T, doc []byte) map[string]xCase {
	t.Helper()
	var s struct {
		Suites []xSuite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(doc, &s); err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	cases := map[string]xCase{}
	for _, su := range s.Suites {
		var n, f, e, sk int
		for _, c := range su.Cases {
			n++
			if c.Failure != nil {
				f++
			}
			if c.Error != nil {
				e++
			}
			if c.Skipped != nil {
				sk++
			}
			if c.Class != su.Name {
				t.Errorf("%s: classname %q", c.Name, c.Class)
			}
			cases[su.Name+" "+c.Name] = c
		}
		if n != su.Tests || f != su.Failures || e != su.Errors || sk != su.Skipped {
			t.Errorf("suite %s: attributes tests=%d failures=%d errors=%d skipped=%d, cases say %d %d %d %d",
				su.Name, su.Tests, su.Failures, su.Errors, su.Skipped, n, f, e, sk)
		}
	}
	return cases
}

func TestSemantics(t *testing.T) {
	t.Parallel()
	run := loadRun(t)
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	cases := parse(t, buf.Bytes())
	for _, tr := range run.Tests {
		c, ok := cases[tr.Package+" "+tr.Test]
		if !ok {
			t.Errorf("no testcase for %s %s", tr.Package, tr.Test)
			continue
		}
		switch tr.Result {
		case "pass":
			if c.Failure != nil || c.Error != nil || c.Skipped != nil {
				t.Errorf("%s: passed test has %+v", tr.Test, c)
			}
		case "fail":
			if c.Failure == nil || c.Failure.Type != TypeFail || !strings.Contains(c.Failure.Body, "--- FAIL") {
				t.Errorf("%s: failure %+v", tr.Test, c.Failure)
			}
		case "skip":
			if c.Skipped == nil {
				t.Errorf("%s: not skipped", tr.Test)
			}
		case "interrupted":
			if c.Error == nil || c.Error.Type != TypeInterrupted {
				t.Errorf("%s: error %+v", tr.Test, c.Error)
			}
		case "hung":
			if c.Failure == nil || c.Failure.Type != TypeHang {
				t.Fatalf("%s: failure %+v", tr.Test, c.Failure)
			}
		}
	}
	for _, h := range run.Report.Hangs {
		name := h.Test
		if name == "" {
			name = SyntheticName
		}
		c := cases[h.Package+" "+name]
		if c.Failure == nil || c.Failure.Message != h.Summary {
			t.Errorf("hang %s %s: failure %+v, want message %q", h.Package, name, c.Failure, h.Summary)
			continue
		}
		for _, g := range h.Goroutines {
			if !strings.Contains(c.Failure.Body, g.Location) || !strings.Contains(c.Failure.Body, g.Stack[0]) {
				t.Errorf("hang %s: body lacks group at %s", name, g.Location)
			}
		}
		for _, p := range h.Processes {
			if !strings.Contains(c.Failure.Body, strings.Join(p.Cmdline, " ")) {
				t.Errorf("hang %s: body lacks process %v", name, p.Cmdline)
			}
		}
	}
	// Package-level failures appear as TestMain.
	for pkg, typ := range map[string]string{
		"example.com/failskip/broken":   TypeBuild,
		"example.com/failskip/mainexit": TypeFail,
		"example.com/pipeholder":        TypeHang,
	} {
		c := cases[pkg+" "+SyntheticName]
		if c.Failure == nil || c.Failure.Type != typ {
			t.Errorf("%s: TestMain failure %+v, want type %s", pkg, c.Failure, typ)
		}
	}
	if c := cases["example.com/failskip/mainexit TestMain"]; c.Failure != nil && !strings.Contains(c.Failure.Body, "connection refused") {
		t.Errorf("mainexit: body lacks the package output: %q", c.Failure.Body)
	}
	// The failing test logs <b>, &, ]]>, ESC and NUL; all must survive
	// (ESC and NUL as U+FFFD).
	c := cases["example.com/failskip/calc TestDivByZero"]
	if c.Failure == nil || !strings.Contains(c.Failure.Body, `input <b>1</b> & "0" ]]> `+"\uFFFD[31mred\uFFFD[0m nul:\uFFFD end") {
		t.Errorf("escaping lost text: %+v", c.Failure)
	}
	if c.Failure.Message != "calc_test.go:20: Div(1, 0) = 0, want -1 (a panic would be better)" {
		t.Errorf("message %q", c.Failure.Message)
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	nasty := "a]]>b]]]]>c<![CDATA[d\x00e\x1bf\x7fg\uFFFEh\xffi\r\nj\tk\"l'm&n<o>p"
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := &report.Run{
		Report: &report.Report{Hangs: []*report.Hang{{
			Package: "p<&>", Test: "T\"x\n", Phase: report.PhaseTest, Summary: nasty,
			Goroutines: []report.GoroutineGroup{{IDs: []int64{1}, Count: 1, State: "select", Location: nasty, Stack: []string{nasty}}},
		}}},
		Tests: []report.TestRun{
			{Package: "p<&>", Test: "T\"x\n", Result: "hung", Start: start, Output: nasty},
			{Package: "p<&>", Test: "F", Result: "fail", Start: start, Output: "    f_test.go:1: " + nasty + "\n"},
			{Package: "p<&>", Test: "S]]>", Result: "skip", Start: start},
		},
		Packages: []report.PackageRun{{Package: "p<&>", Result: "hung", Start: start, Output: nasty}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	cases := parse(t, buf.Bytes())
	want := "a]]>b]]]]>c<![CDATA[d\uFFFDe\uFFFDf\x7fg\uFFFDh\uFFFDi\n" // CR LF reads as LF in CDATA
	c := cases["p<&> T\"x\n"]
	if c.Failure == nil || !strings.Contains(c.Failure.Body, want) {
		t.Fatalf("hang body lost text: %+v", c.Failure)
	}
	if want := "a]]>b]]]]>c<![CDATA[d\uFFFDe\uFFFDf\x7fg\uFFFDh\uFFFDi\r\nj\tk\"l'm&n<o>p"; c.Failure.Message != want {
		t.Errorf("message %q", c.Failure.Message)
	}
	if cases["p<&> F"].Failure == nil || cases["p<&> S]]>"].Skipped == nil {
		t.Errorf("cases %+v", cases)
	}
	xmllint(t, buf.Bytes())
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, &report.Run{}); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="hangdog" tests="0" failures="0" errors="0" time="0.000">
</testsuites>
`
	if buf.String() != want {
		t.Errorf("got\n%s", buf.String())
	}
	xmllint(t, buf.Bytes())
}

type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		n := w.n
		w.n = 0
		return n, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	run := loadRun(t)
	for _, n := range []int{0, 100, 5000} {
		if err := Write(&failWriter{n: n}, run); !errors.Is(err, errWrite) {
			t.Errorf("after %d bytes: err = %v, want %v", n, err, errWrite)
		}
	}
}

// streamRun reads a recorded go test -json stream into a report.Run
// (reporttest.StreamRun).
func streamRun(t *testing.T, file string) *report.Run {
	t.Helper()
	run, err := reporttest.StreamRun(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestErrorLinesMessage: on Go 1.27.3's stream of the errors fixture, a
// failure's message is its error lines (t.Error, t.Fatal and their
// continuations), not the last thing it logged, and "Failed" when it has
// none; the body is the whole output, framing included. On Go 1.26.8's
// stream of the same tests the messages are what they always were.
func TestErrorLinesMessage(t *testing.T) {
	t.Parallel()
	const dir = "../testjson/testdata/"
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		{dir + "go1.27/errors.json", map[string]string{
			"TestLogAfterError":   "errors_test.go:20: got 1, want 2",
			"TestMultiLine":       "errors_test.go:26: mismatch:\n    -want\n    +got\nerrors_test.go:27: stop",
			"TestLongError":       "errors_test.go:32: long: " + strings.Repeat("abcdefghij", 150),
			"TestMarkers":         "errors_test.go:37: markers \uFFFD \uFFFD \uFFFD here",
			"TestParent":          "Failed",
			"TestParent/child":    "errors_test.go:43: child error",
			"TestPanicAfterError": "errors_test.go:49: before the panic",
		}},
		{dir + "errors.json", map[string]string{
			"TestLogAfterError":   "errors_test.go:21: after the error: cleanup.go:12: looks like a location",
			"TestMultiLine":       "errors_test.go:27: stop",
			"TestLongError":       "errors_test.go:32: long: " + strings.Repeat("abcdefghij", 150),
			"TestMarkers":         "errors_test.go:37: markers \uFFFD \uFFFD \uFFFD here",
			"TestParent":          "errors_test.go:44: parent log after",
			"TestParent/child":    "errors_test.go:43: child error",
			"TestPanicAfterError": "errors_test.go:49: before the panic",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, streamRun(t, tc.file)); err != nil {
				t.Fatal(err)
			}
			cases := parse(t, buf.Bytes())
			for name, msg := range tc.want {
				c := cases["example.com/errors "+name]
				if c.Failure == nil {
					t.Errorf("%s: no failure", name)
					continue
				}
				if c.Failure.Message != msg {
					t.Errorf("%s: message %q, want %q", name, c.Failure.Message, msg)
				}
				if !strings.Contains(c.Failure.Body, "=== RUN   "+name+"\n") || !strings.Contains(c.Failure.Body, "--- FAIL: "+name) {
					t.Errorf("%s: body lost its framing: %q", name, c.Failure.Body)
				}
			}
			xmllint(t, buf.Bytes())
		})
	}
}

// TestPytestNames: classname and name as pytest's own --junitxml writes
// them (checked against pytest 7.2.1's output for the pass fixture suite).
func TestPytestNames(t *testing.T) {
	for id, want := range map[string][2]string{
		"test_outcomes.py::test_fail":                    {"test_outcomes", "test_fail"},
		"tests/test_db.py::TestDB::test_lock[sqlite]":    {"tests.test_db.TestDB", "test_lock[sqlite]"},
		"test_outcomes.py::test_ids[c::d]":               {"test_outcomes", "test_ids[c::d]"},
		"test_outcomes.py::test_ids[a/b]":                {"test_outcomes", "test_ids[a/b]"},
		"test_outcomes.py::TestGroup::test_in_class":     {"test_outcomes.TestGroup", "test_in_class"},
		"a/b/test_x.py::TestOuter::TestInner::test_deep": {"a.b.test_x.TestOuter.TestInner", "test_deep"},
		"no_separator": {"", "no_separator"},
	} {
		c, n := pytestNames(id)
		if c != want[0] || n != want[1] {
			t.Errorf("pytestNames(%q) = %q, %q; want %q, %q", id, c, n, want[0], want[1])
		}
	}
}
