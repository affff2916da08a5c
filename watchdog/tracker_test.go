package watchdog

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
	"github.com/hangdog/hangdog/watchdog/report"
)

func ev(action testjson.Action, pkg, test string) *testjson.Event {
	return &testjson.Event{Action: action, Package: pkg, Test: test}
}

type step struct {
	at time.Duration // since t0
	e  *testjson.Event
}

func names(sts []stall) map[string][]string {
	out := make(map[string][]string)
	for _, s := range sts {
		var n []string
		for _, t := range s.tests {
			n = append(n, t.name)
		}
		if n == nil {
			n = []string{}
		}
		out[s.pkg] = n
	}
	return out
}

func TestTrackerStalls(t *testing.T) {
	t.Parallel()
	const P = "example.com/p"
	th := func(string, string) time.Duration { return 10 * time.Second }
	cases := []struct {
		name  string
		steps []step
		at    time.Duration
		want  map[string][]string
	}{
		{
			name: "quiet test stalls",
			steps: []step{
				{0, ev("start", P, "")},
				{0, ev("run", P, "TestA")},
			},
			at:   11 * time.Second,
			want: map[string][]string{P: {"TestA"}},
		},
		{
			name: "output is a heartbeat",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{5 * time.Second, ev("output", P, "TestA")},
			},
			at:   11 * time.Second,
			want: map[string][]string{},
		},
		{
			name: "paused test is not stalled, parent is the leaf",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("run", P, "TestA/x")},
				{0, ev("pause", P, "TestA/x")},
			},
			at:   11 * time.Second,
			want: map[string][]string{P: {"TestA"}},
		},
		{
			name: "parent waiting for subtest is not stalled",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("run", P, "TestA/x")},
				{0, ev("run", P, "TestA/x/y")},
			},
			at:   11 * time.Second,
			want: map[string][]string{P: {"TestA/x/y"}},
		},
		{
			name: "subtest end is a heartbeat for the parent",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("run", P, "TestA/x")},
				{8 * time.Second, ev("pass", P, "TestA/x")},
			},
			at:   11 * time.Second,
			want: map[string][]string{},
		},
		{
			name: "finished package never stalls",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("pass", P, "TestA")},
				{0, ev("pass", P, "")},
			},
			at:   time.Hour,
			want: map[string][]string{},
		},
		{
			name: "package with no running test stalls at package level",
			steps: []step{
				{0, ev("start", P, "")},
				{0, ev("run", P, "TestA")},
				{1 * time.Second, ev("pass", P, "TestA")},
			},
			at:   12 * time.Second,
			want: map[string][]string{P: {}},
		},
		{
			name: "binary killed: running tests forgotten",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("fail", P, "")},
			},
			at:   time.Hour,
			want: map[string][]string{},
		},
		{
			name: "packages are independent",
			steps: []step{
				{0, ev("run", P, "TestA")},
				{0, ev("run", "q", "TestB")},
				{9 * time.Second, ev("output", "q", "TestB")},
			},
			at:   11 * time.Second,
			want: map[string][]string{P: {"TestA"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Unix(1000, 0)
			tr := newTracker()
			for _, s := range tc.steps {
				tr.observe(s.e, t0.Add(s.at))
			}
			got := names(tr.stalls(t0.Add(tc.at), th))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stalls = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrackerFlaggedNotReported(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	tr := newTracker()
	tr.observe(ev("run", "p", "TestA"), t0)
	th := func(string, string) time.Duration { return time.Second }
	st := tr.stalls(t0.Add(2*time.Second), th)
	if len(st) != 1 {
		t.Fatalf("want 1 stall, got %v", names(st))
	}
	st[0].tests[0].flagged = true
	if st := tr.stalls(t0.Add(3*time.Second), th); len(st) != 0 {
		t.Fatalf("flagged test reported again: %v", names(st))
	}
	// A hung test's late result is not counted as passed.
	tr.observe(ev("pass", "p", "TestA"), t0.Add(4*time.Second))
	if tr.counts.Passed != 0 {
		t.Errorf("passed = %d, want 0", tr.counts.Passed)
	}
}

func TestTrackerCounts(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	now := time.Now()
	for _, e := range []*testjson.Event{
		ev("run", "p", "A"), ev("pass", "p", "A"),
		ev("run", "p", "B"), ev("fail", "p", "B"),
		ev("run", "p", "C"), ev("skip", "p", "C"),
		ev("fail", "p", ""),
		{Action: "fail", Package: "q", FailedBuild: "q"},
	} {
		tr.observe(e, now)
	}
	want := Counts{Passed: 1, Failed: 1, Skipped: 1}
	if tr.counts != want {
		t.Errorf("counts = %+v, want %+v", tr.counts, want)
	}
	if !reflect.DeepEqual(tr.failedPkgs, []string{"p", "q"}) || !reflect.DeepEqual(tr.buildFailed, []string{"q"}) {
		t.Errorf("failed = %v, build failed = %v", tr.failedPkgs, tr.buildFailed)
	}
}

func TestParseStallRule(t *testing.T) {
	t.Parallel()
	r, err := ParseStallRule("TestSlow/a=b=2m")
	if err != nil || r.Stall != 2*time.Minute || r.Pattern.String() != "TestSlow/a=b" {
		t.Errorf("got %v %v", r, err)
	}
	for _, bad := range []string{"", "=1s", "TestA=", "TestA=x", "(=1s", "TestA=-1s"} {
		if _, err := ParseStallRule(bad); err == nil {
			t.Errorf("ParseStallRule(%q): no error", bad)
		}
	}
	e := &engine{cfg: Config{Stall: time.Minute, StallFor: []StallRule{r}}}
	for test, want := range map[string]time.Duration{"TestSlow/a=b/c": 2 * time.Minute, "TestX": time.Minute, "": time.Minute} {
		if got, why := e.threshold("p", test); got != want || why == "" {
			t.Errorf("threshold(%q) = %v (%s), want %v", test, got, why, want)
		}
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	const max = 64 << 10
	var want []byte
	tl := new(tail)
	for i := 0; i < 5000; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), i%97) + "\n"
		tl.write(s)
		want = append(want, s...)
		if len(want) > max {
			want = want[len(want)-max:]
		}
		if got := tl.String(); got != string(want) {
			t.Fatalf("after %d writes: tail differs (len %d vs %d)", i, len(got), len(want))
		}
	}
	tl.write(strings.Repeat("z", max+10))
	if got := tl.String(); got != strings.Repeat("z", max) {
		t.Fatalf("big write: len %d", len(got))
	}
}

func TestTrackerRecords(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	tr.record = true
	t0 := time.Unix(1000, 0)
	steps := []*testjson.Event{
		ev("start", "p", ""),
		ev("run", "p", "A"), {Action: "output", Package: "p", Test: "A", Output: "log A\n"}, ev("pass", "p", "A"),
		ev("run", "p", "B"), {Action: "output", Package: "p", Test: "B", Output: "boom\n"}, ev("fail", "p", "B"),
		ev("run", "p", "C"), {Action: "output", Package: "p", Test: "C", Output: "stuck\n"},
		{Action: "output", Package: "p", Output: "FAIL\n"},
		ev("fail", "p", ""),
	}
	for i, e := range steps {
		tr.observe(e, t0.Add(time.Duration(i)*time.Second))
	}
	got := map[string]string{}
	for _, r := range tr.tests {
		got[r.Test] = r.Result + ":" + r.Output
	}
	want := map[string]string{"A": "pass:", "B": "fail:boom\n", "C": "interrupted:stuck\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tests %v, want %v", got, want)
	}
	if len(tr.packages) != 1 || tr.packages[0].Result != "fail" || tr.packages[0].Output != "FAIL\n" {
		t.Errorf("packages %+v", tr.packages)
	}
	tr.markHung("p", "C")
	if tr.tests[2].Result != "hung" {
		t.Errorf("markHung: %+v", tr.tests[2])
	}
}

// trackStream runs a recorded go test -json stream through a recording
// tracker and returns its test records by name.
func trackStream(t *testing.T, file string) map[string]report.TestRun {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := newTracker()
	tr.record = true
	h := &eventFunc{fn: func(e *testjson.Event) { tr.observe(e, e.Time) }}
	if err := testjson.Scan(f, h); err != nil {
		t.Fatal(err)
	}
	got := map[string]report.TestRun{}
	for _, r := range tr.tests {
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
	const dir = "internal/testjson/testdata/"
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
