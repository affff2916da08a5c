package gotest

import (
	"reflect"
	"testing"

	"github.com/hangdog/hangdog/stackparse"
)

// TestVerdict judges canned pairs of dumps: the test's own goroutine
// decides between stuck and moving, helpers that move do not make a stuck
// test slow, and a busy CPU in the test's code with a running goroutine is
// spinning whatever the stacks say.
func TestVerdict(t *testing.T) {
	t.Parallel()
	g := func(id int64, state string, fn string, line int) *stackparse.Goroutine {
		return &stackparse.Goroutine{ID: id, State: state, Frames: []stackparse.Frame{{Func: fn, Line: line}, {Func: "testing.tRunner", Line: 1934}}}
	}
	dump := func(gs ...*stackparse.Goroutine) *stackparse.Dump { return &stackparse.Dump{Goroutines: gs} }
	test := func(state string, ids ...int64) GoroutineGroup {
		return GoroutineGroup{IDs: ids, Role: "test", State: state}
	}
	helper := func(state string, ids ...int64) GoroutineGroup {
		return GoroutineGroup{IDs: ids, Role: "helper", State: state}
	}
	hot := stackparse.Frame{Func: "example.com/p.spin", Line: 9}

	before := dump(g(7, "chan receive", "example.com/p.TestA", 12), g(8, "select", "example.com/p.helper", 30))
	same := dump(g(7, "chan receive", "example.com/p.TestA", 12), g(8, "select", "example.com/p.helper", 30))
	helperMoved := dump(g(7, "chan receive", "example.com/p.TestA", 12), g(8, "select", "example.com/p.helper", 31))
	testMoved := dump(g(7, "chan receive", "example.com/p.TestA", 14), g(8, "select", "example.com/p.helper", 30))
	testGone := dump(g(8, "select", "example.com/p.helper", 30))
	spinBefore := dump(g(7, "running", "example.com/p.spin", 9))
	spinAfter := dump(g(7, "runnable", "example.com/p.spin", 9))
	spinAfter2 := dump(g(7, "runnable", "example.com/p.spin", 9))
	stateChanged := dump(g(7, "sleep", "example.com/p.TestA", 12), g(8, "select", "example.com/p.helper", 30))

	for _, c := range []struct {
		name        string
		d1, d2      *stackparse.Dump
		groups      []GoroutineGroup
		cpu         float64
		hot         stackparse.Frame
		want        string
		wantChanged []int64
	}{
		{"same stacks", before, same, []GoroutineGroup{test("chan receive", 7), helper("select", 8)}, 0, stackparse.Frame{}, "stuck", nil},
		{"one dump only", nil, same, []GoroutineGroup{test("chan receive", 7)}, 0, stackparse.Frame{}, "stuck", nil},
		{"the same dump twice", same, same, []GoroutineGroup{test("chan receive", 7)}, 0, stackparse.Frame{}, "stuck", nil},
		{"only a helper moved", before, helperMoved, []GoroutineGroup{test("chan receive", 7), helper("select", 8)}, 0, stackparse.Frame{}, "stuck", []int64{8}},
		{"the test moved", before, testMoved, []GoroutineGroup{test("chan receive", 7), helper("select", 8)}, 0, stackparse.Frame{}, "moving", []int64{7}},
		{"the test's goroutine is gone", before, testGone, []GoroutineGroup{test("chan receive", 7)}, 0, stackparse.Frame{}, "moving", []int64{7}},
		{"a state changed", before, stateChanged, []GoroutineGroup{test("chan receive", 7)}, 0, stackparse.Frame{}, "moving", []int64{7}},
		{"no test goroutine, a helper moved", before, helperMoved, []GoroutineGroup{helper("select", 8)}, 0, stackparse.Frame{}, "moving", []int64{8}},
		{"busy and running", before, same, []GoroutineGroup{test("running", 7)}, 0.9, hot, "spinning", nil},
		{"busy, nothing of the test runs", before, same, []GoroutineGroup{test("chan receive", 7)}, 0.9, hot, "stuck", nil},
		{"running, but the CPU mostly idle", before, same, []GoroutineGroup{test("runnable", 7)}, 0.1, hot, "stuck", nil},
		{"busy outside user code", before, same, []GoroutineGroup{test("running", 7)}, 0.9, stackparse.Frame{}, "stuck", nil},
		{"on a CPU in both dumps, the CPU starved", spinBefore, spinAfter, []GoroutineGroup{test("runnable", 7)}, 0.13, hot, "spinning", nil},
		{"on a CPU in both dumps, no CPU samples", spinAfter, spinAfter2, []GoroutineGroup{test("runnable", 7)}, 0, stackparse.Frame{}, "stuck", nil},
	} {
		got, changed := Verdict(c.d1, c.d2, c.groups, c.cpu, c.hot)
		if got != c.want || !reflect.DeepEqual(changed, c.wantChanged) {
			t.Errorf("%s: Verdict = %q, %v; want %q, %v", c.name, got, changed, c.want, c.wantChanged)
		}
	}
}
