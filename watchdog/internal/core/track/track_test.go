package track

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/coretest"
)

func ev(action core.Action, pkg, test string) *core.Event {
	return &core.Event{Action: action, Unit: pkg, Test: test}
}

type step struct {
	at time.Duration // since t0
	e  *core.Event
}

func names(sts []Stall) map[string][]string {
	out := make(map[string][]string)
	for _, s := range sts {
		var n []string
		for _, t := range s.Tests {
			n = append(n, t.Name)
		}
		if n == nil {
			n = []string{}
		}
		out[s.Unit] = n
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
			tr := New(coretest.Slash{})
			for _, s := range tc.steps {
				tr.Observe(s.e, t0.Add(s.at))
			}
			got := names(tr.Stalls(t0.Add(tc.at), th))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stalls = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrackerFlaggedNotReported(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	tr := New(coretest.Slash{})
	tr.Observe(ev("run", "p", "TestA"), t0)
	th := func(string, string) time.Duration { return time.Second }
	st := tr.Stalls(t0.Add(2*time.Second), th)
	if len(st) != 1 {
		t.Fatalf("want 1 stall, got %v", names(st))
	}
	tr.Flag(st[0].Unit, st[0].Tests[0].Name)
	if st := tr.Stalls(t0.Add(3*time.Second), th); len(st) != 0 {
		t.Fatalf("flagged test reported again: %v", names(st))
	}
	// A hung test's late result is not counted as passed.
	tr.Observe(ev("pass", "p", "TestA"), t0.Add(4*time.Second))
	if tr.Counts.Passed != 0 {
		t.Errorf("passed = %d, want 0", tr.Counts.Passed)
	}
}

func TestTrackerCounts(t *testing.T) {
	t.Parallel()
	tr := New(coretest.Slash{})
	now := time.Now()
	for _, e := range []*core.Event{
		ev("run", "p", "A"), ev("pass", "p", "A"),
		ev("run", "p", "B"), ev("fail", "p", "B"),
		ev("run", "p", "C"), ev("skip", "p", "C"),
		ev("fail", "p", ""),
		{Action: "fail", Unit: "q", BuildFailed: true},
	} {
		tr.Observe(e, now)
	}
	want := Counts{Passed: 1, Failed: 1, Skipped: 1}
	if tr.Counts != want {
		t.Errorf("counts = %+v, want %+v", tr.Counts, want)
	}
	if !reflect.DeepEqual(tr.FailedUnits, []string{"p", "q"}) || !reflect.DeepEqual(tr.BuildFailed, []string{"q"}) {
		t.Errorf("failed = %v, build failed = %v", tr.FailedUnits, tr.BuildFailed)
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
	tr := New(coretest.Slash{})
	tr.Record = true
	t0 := time.Unix(1000, 0)
	steps := []*core.Event{
		ev("start", "p", ""),
		ev("run", "p", "A"), {Action: "output", Unit: "p", Test: "A", Output: "log A\n"}, ev("pass", "p", "A"),
		ev("run", "p", "B"), {Action: "output", Unit: "p", Test: "B", Output: "boom\n"}, ev("fail", "p", "B"),
		ev("run", "p", "C"), {Action: "output", Unit: "p", Test: "C", Output: "stuck\n"},
		{Action: "output", Unit: "p", Output: "FAIL\n"},
		ev("fail", "p", ""),
	}
	for i, e := range steps {
		tr.Observe(e, t0.Add(time.Duration(i)*time.Second))
	}
	got := map[string]string{}
	for _, r := range tr.Tests {
		got[r.Test] = r.Result + ":" + r.Output
	}
	want := map[string]string{"A": "pass:", "B": "fail:boom\n", "C": "interrupted:stuck\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tests %v, want %v", got, want)
	}
	if len(tr.Packages) != 1 || tr.Packages[0].Result != "fail" || tr.Packages[0].Output != "FAIL\n" {
		t.Errorf("packages %+v", tr.Packages)
	}
	tr.MarkHung("p", "C")
	if tr.Tests[2].Result != "hung" {
		t.Errorf("markHung: %+v", tr.Tests[2])
	}
}

// TestTrackerNamer: which test is a parent comes from the runner's Namer,
// not from a '/' in the name.
func TestTrackerNamer(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	th := func(string, string) time.Duration { return time.Second }
	const parent, child = "tests/db/test_a.py::TestLock", "tests/db/test_a.py::TestLock::test_x[a/b]"
	tr := New(coretest.Colons{})
	tr.Observe(ev("run", "w0", parent), t0)
	tr.Observe(ev("run", "w0", child), t0)
	tr.Observe(ev("run", "w0", "tests/db"), t0) // a '/' prefix of both, but no parent
	if got, want := names(tr.Stalls(t0.Add(2*time.Second), th)), map[string][]string{"w0": {child, "tests/db"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("stalls = %v, want %v", got, want)
	}
	// The child's events are the parent's heartbeats too.
	tr.Observe(ev("output", "w0", child), t0.Add(5*time.Second))
	if got := tr.Units["w0"].Tests[parent].LastBeat(); !got.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("parent's last beat %v, want the child's output's", got)
	}
	if got := tr.Units["w0"].Tests["tests/db"].LastBeat(); !got.Equal(t0) {
		t.Errorf("a '/' prefix got the child's heartbeat: %v", got)
	}
}
