package track

import (
	"sort"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core/coretest"
)

// The capture policy's calls, one after the other, and what Stalls says
// after each: the tracker's state changes only through them.
func TestTrackerPolicyCalls(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	th := func(string, string) time.Duration { return time.Second }
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tr := New(coretest.Slash{})
	tr.Observe(ev("run", "p", "TestA"), t0)
	tr.Observe(ev("run", "q", "TestB"), t0)
	stalled := func(now time.Time) []string { return flat(tr.Stalls(now, th)) }
	if got := stalled(at(2)); len(got) != 2 {
		t.Fatalf("stalls at 2s = %v, want p and q", got)
	}

	tr.Capture("p")
	if got := stalled(at(2)); len(got) != 1 || got[0] != "q TestB" {
		t.Fatalf("while p is captured: %v, want only q TestB", got)
	}
	tr.Flag("p", "TestA")
	tr.Release("p", at(2))
	if !tr.Units["p"].Tests["TestA"].Flagged() {
		t.Fatal("TestA not flagged")
	}
	if got := stalled(at(5)); len(got) != 1 || got[0] != "q TestB" {
		t.Fatalf("flagged TestA reported again: %v", got)
	}

	// Slow after all: quiet again from the unflag, reported again later.
	tr.Unflag("p", "TestA", at(5))
	if got := tr.Units["p"].Tests["TestA"].LastBeat(); !got.Equal(at(5)) {
		t.Fatalf("LastBeat after Unflag = %v, want %v", got, at(5))
	}
	if got := stalled(at(5)); len(got) != 1 {
		t.Fatalf("right after Unflag: %v, want only q TestB", got)
	}
	if got := stalled(at(7)); len(got) != 2 {
		t.Fatalf("2s after Unflag: %v, want p TestA again", got)
	}

	tr.Flag("q", "TestB")
	if !tr.Recover("q", "TestB") {
		t.Fatal("Recover of a flagged test = false")
	}
	if tr.Recover("q", "TestB") || tr.Recover("q", "TestNone") || tr.Recover("none", "TestB") {
		t.Fatal("Recover of a test that is not flagged = true")
	}

	// A ghost is never reported again, however long it stays quiet.
	tr.Flag("q", "TestB")
	tr.Ghost("q", "TestB")
	if tr.Units["q"].Tests["TestB"].Flagged() {
		t.Fatal("ghost still flagged")
	}
	for _, s := range stalled(at(100)) {
		if s == "q TestB" {
			t.Fatal("ghost reported as stalled")
		}
	}

	// Unknown units and tests are ignored.
	tr.Capture("none")
	tr.Release("none", at(1))
	tr.Flag("none", "")
	tr.Flag("p", "TestNone")
	tr.Unflag("none", "", at(1))
	tr.Ghost("p", "TestNone")
	tr.SawBinary("none")
}

// A unit with no test and no output has not run until its process is seen;
// flagged at the unit level, it is not reported again until unflagged.
func TestTrackerUnitLevel(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	th := func(string, string) time.Duration { return time.Second }
	tr := New(coretest.Slash{})
	tr.Observe(ev("start", "p", ""), t0)
	p := tr.Units["p"]
	if p.HasRun() {
		t.Fatal("HasRun before any sign of the process")
	}
	tr.SawBinary("p")
	if !p.HasRun() {
		t.Fatal("HasRun false after SawBinary")
	}
	if st := tr.Stalls(t0.Add(2*time.Second), th); len(st) != 1 || len(st[0].Tests) != 0 {
		t.Fatalf("want one unit-level stall, got %v", names(st))
	}
	tr.Flag("p", "")
	if st := tr.Stalls(t0.Add(3*time.Second), th); len(st) != 0 {
		t.Fatalf("flagged unit reported again: %v", names(st))
	}
	tr.Unflag("p", "", t0.Add(3*time.Second))
	if !p.LastBeat().Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("unit LastBeat after Unflag = %v", p.LastBeat())
	}
	if st := tr.Stalls(t0.Add(5*time.Second), th); len(st) != 1 {
		t.Fatalf("unflagged unit not reported again: %v", names(st))
	}

	q := New(coretest.Slash{})
	q.Observe(ev("output", "q", ""), t0)
	if !q.Units["q"].HasRun() {
		t.Fatal("HasRun false after output")
	}
}

// flat names each stalled test as "unit test", sorted.
func flat(sts []Stall) []string {
	var out []string
	for _, s := range sts {
		for _, t := range s.Tests {
			out = append(out, s.Unit+" "+t.Name)
		}
	}
	sort.Strings(out)
	return out
}

// StillHung counts the flagged tests of a live hang and their latest beat;
// a recovered or ended test no longer counts, and a unit that finished is
// done.
func TestTrackerStillHung(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tr := New(coretest.Slash{})
	tr.Observe(ev("run", "p", "TestA"), t0)
	tr.Observe(ev("run", "p", "TestB"), at(1))
	tr.Flag("p", "TestA")
	tr.Flag("p", "TestB")
	check := func(tests []string, wantLast time.Time, wantAlive int, wantDone bool) {
		t.Helper()
		last, alive, done := tr.StillHung("p", tests)
		if !last.Equal(wantLast) || alive != wantAlive || done != wantDone {
			t.Errorf("StillHung(p, %q) = %v, %d, %v; want %v, %d, %v", tests, last, alive, done, wantLast, wantAlive, wantDone)
		}
	}
	check([]string{"TestA", "TestB"}, at(1), 2, false)
	check([]string{"TestA"}, t0, 1, false)
	tr.Recover("p", "TestB")
	check([]string{"TestA", "TestB"}, t0, 1, false)
	tr.Observe(ev("pass", "p", "TestA"), at(3))
	check([]string{"TestA", "TestB"}, time.Time{}, 0, false)
	check([]string{""}, at(3), 1, false) // the unit itself: its last event
	tr.Observe(ev("fail", "p", ""), at(4))
	check([]string{""}, time.Time{}, 0, true)
	if _, _, done := tr.StillHung("none", []string{""}); !done {
		t.Error("StillHung of an unknown unit: not done")
	}
}
