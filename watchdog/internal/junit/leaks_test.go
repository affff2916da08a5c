package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/watchdog/report"
)

// TestLeakSystemOut: a passing test that leaked keeps passing, with the
// leak in its <system-out>.
func TestLeakSystemOut(t *testing.T) {
	run := &report.Run{
		Report: &report.Report{Leaks: []*report.Leak{{
			Package: "example.com/leaky", Test: "TestSend", Run: 1, GraceSeconds: 1,
			Goroutines: []report.GoroutineGroup{{Count: 2, State: "chan send", Location: "leaky.go:15",
				CreatedBy: "example.com/leaky.FirstResult", Stack: []string{"example.com/leaky.FirstResult.func1 /m/leaky.go:15"}}},
		}}},
		Tests: []report.TestRun{
			{Package: "example.com/leaky", Test: "TestSend", Result: "pass"},
			{Package: "example.com/leaky", Test: "TestClean", Result: "pass"},
		},
	}
	var buf bytes.Buffer
	if err := Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Out     string    `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if doc.Failures != 0 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("document:\n%s", buf.String())
	}
	send, clean := doc.Suites[0].Cases[0], doc.Suites[0].Cases[1]
	if send.Failure != nil || !strings.HasPrefix(send.Out, "LEAK example.com/leaky TestSend: goroutines still blocked 1s after the test ended (blocked at the end)\n2 × [chan send] at leaky.go:15 (created by example.com/leaky.FirstResult)\n") {
		t.Errorf("TestSend: failure %v, system-out %q", send.Failure, send.Out)
	}
	if clean.Out != "" {
		t.Errorf("TestClean has system-out %q", clean.Out)
	}
}
