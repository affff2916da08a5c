package policy

import (
	"reflect"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/coretest"
	"github.com/hangdog/hangdog/watchdog/report"
)

func TestUnitStall(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		found, hasRun bool
		phase         report.Phase
		stall         bool
	}{
		{false, false, "", false},
		{false, true, report.PhaseExit, true},
		{true, false, report.PhaseTestMain, true},
		{true, true, report.PhaseTestMain, true},
	} {
		phase, stall := UnitStall(c.found, c.hasRun)
		if phase != c.phase || stall != c.stall {
			t.Errorf("UnitStall(found %v, hasRun %v) = %q, %v; want %q, %v", c.found, c.hasRun, phase, stall, c.phase, c.stall)
		}
	}
}

func TestWithoutAncestors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		namer         core.Namer
		list, stalled []string
		want          []string
	}{
		{"parents and grandparents go", coretest.Slash{}, []string{"TestA", "TestA/b", "TestB"}, []string{"TestA/b/c"}, []string{"TestB"}},
		{"a sibling stays", coretest.Slash{}, []string{"TestA/x", "TestA"}, []string{"TestA/b"}, []string{"TestA/x"}},
		{"a name prefix is no parent", coretest.Slash{}, []string{"TestAB"}, []string{"TestA/b"}, []string{"TestAB"}},
		{"nothing else runs", coretest.Slash{}, nil, []string{"TestA"}, nil},
		{"'/' in a file part is no parent", coretest.Colons{}, []string{"tests", "tests/db.py", "tests/db.py::TestX"}, []string{"tests/db.py::TestX::test_a"}, []string{"tests"}},
	} {
		if got := WithoutAncestors(c.namer, c.list, c.stalled); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: WithoutAncestors(%v, %v) = %v, want %v", c.name, c.list, c.stalled, got, c.want)
		}
	}
}

func TestKillAfter(t *testing.T) {
	t.Parallel()
	const def = 5 * time.Minute
	for _, c := range []struct {
		set        time.Duration
		thresholds []time.Duration
		want       time.Duration
	}{
		{0, nil, def},
		{-time.Second, nil, def},
		{time.Minute, nil, time.Minute},
		{time.Minute, []time.Duration{30 * time.Second, 90 * time.Second}, 90 * time.Second},
		{time.Minute, []time.Duration{30 * time.Second}, time.Minute},
		{0, []time.Duration{10 * time.Minute}, 10 * time.Minute},
	} {
		if got := KillAfter(c.set, def, c.thresholds...); got != c.want {
			t.Errorf("KillAfter(%v, %v, %v) = %v, want %v", c.set, def, c.thresholds, got, c.want)
		}
	}
}

func TestLive(t *testing.T) {
	t.Parallel()
	const k = time.Minute
	for _, c := range []struct {
		done  bool
		alive int
		quiet time.Duration
		want  LiveAction
	}{
		{false, 1, 0, LiveWait},
		{false, 2, k - time.Millisecond, LiveWait},
		{false, 1, k, LiveKill},
		{false, 1, 10 * k, LiveKill},
		{false, 0, 10 * k, LiveForget},
		{true, 1, 10 * k, LiveForget},
		{true, 0, 0, LiveForget},
	} {
		if got := Live(c.done, c.alive, c.quiet, k); got != c.want {
			t.Errorf("Live(done %v, alive %d, quiet %v, %v) = %d, want %d", c.done, c.alive, c.quiet, k, got, c.want)
		}
	}
}

func TestGhost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		test       string
		stuck      int
		captureErr string
		want       bool
	}{
		{"TestA", 0, "", true},
		{"TestA", 1, "", false},
		{"TestA", 0, "the test binary was not found", false},
		{"", 0, "", false},
	} {
		if got := Ghost(c.test, c.stuck, c.captureErr); got != c.want {
			t.Errorf("Ghost(%q, %d, %q) = %v, want %v", c.test, c.stuck, c.captureErr, got, c.want)
		}
	}
}
