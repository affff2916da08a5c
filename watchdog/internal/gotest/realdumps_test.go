package gotest

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// realTest is what a summary must say of one test of a real dump.
type realTest struct {
	state    string // TestSummary.State
	location string // suffix of TestSummary.Location ("" for none)
	members  int    // goroutines shown under the test
	// group is a property of one goroutine group under the test:
	// "locked", "durable", "bubble", "labels" (see checkGroupFlag).
	group string
}

// realDump is one kind of dump that public issues show and that used to be
// misread, made from a real program (stackparse/testdata/mycorp/gen.sh).
type realDump struct {
	file       string // under stackparse/testdata/dumps
	goroutines int
	running    []string
	tests      map[string]realTest
	other      int // goroutines shown outside any test
}

var realDumps = map[string]realDump{
	// Go before 1.20: no running tests list; a module path without a
	// dot; a forked sync in semacquire; parents waiting for subtests;
	// a goroutine locked to its thread.
	"old-timeout-nodot-1.12": {file: "go1.12/mycorp_timeout.txt", goroutines: 12, tests: map[string]realTest{
		"TestForkedLock":                     {"semacquire", "xsync/sema.go:28", 1, ""},
		"TestPinned":                         {"chan receive", "hang/hang.go:25", 1, "locked"},
		"TestParallelParent/… (goroutine 5)": {"chan receive", "hang/hang.go:19", 1, ""},
		"TestParallelParent/… (goroutine 6)": {"chan receive", "hang/hang.go:19", 1, ""},
		"TestSeqParent/… (goroutine 8)":      {"chan receive", "hang/hang.go:19", 1, ""},
		"TestSeqParent":                      {"waits for subtest TestSeqParent/… (goroutine 8)", "hang/hang_test.go:23", 2, ""},
		"TestParallelParent":                 {"waits for subtests TestParallelParent/… (goroutine 5), TestParallelParent/… (goroutine 6)", "", 2, ""},
	}},
	"old-timeout-nodot-1.16": {file: "go1.16/mycorp_timeout.txt", goroutines: 12, tests: map[string]realTest{
		"TestForkedLock":                     {"semacquire", "xsync/sema.go:28", 1, ""},
		"TestPinned":                         {"chan receive", "hang/hang.go:25", 1, "locked"},
		"TestParallelParent/… (goroutine 6)": {"chan receive", "hang/hang.go:19", 1, ""},
		"TestParallelParent/… (goroutine 7)": {"chan receive", "hang/hang.go:19", 1, ""},
		"TestSeqParent/… (goroutine 9)":      {"chan receive", "hang/hang.go:19", 1, ""},
		"TestSeqParent":                      {"waits for subtest TestSeqParent/… (goroutine 9)", "hang/hang_test.go:23", 2, ""},
		"TestParallelParent":                 {"waits for subtests TestParallelParent/… (goroutine 6), TestParallelParent/… (goroutine 7)", "", 2, ""},
	}},
	// Go 1.23 and 1.26: the list names subtests only (and TestSeqParent
	// beside its subtest); synctest bubbles on 1.26.
	"timeout-nodot-1.23": {file: "go1.23/mycorp_timeout.txt", goroutines: 11,
		running: []string{"TestForkedLock", "TestParallelParent/a", "TestParallelParent/b", "TestPinned", "TestSeqParent", "TestSeqParent/inner"},
		tests: map[string]realTest{
			"TestForkedLock":       {"semacquire", "xsync/sema.go:28", 1, ""},
			"TestPinned":           {"chan receive", "hang/hang.go:25", 1, "locked"},
			"TestParallelParent/a": {"chan receive", "hang/hang.go:19", 1, ""},
			"TestParallelParent/b": {"chan receive", "hang/hang.go:19", 1, ""},
			"TestSeqParent/inner":  {"chan receive", "hang/hang.go:19", 1, ""},
			"TestSeqParent":        {"waits for subtest TestSeqParent/inner", "hang/hang_test.go:23", 2, ""},
			"TestParallelParent":   {"waits for subtests TestParallelParent/a, TestParallelParent/b", "", 2, ""},
		}},
	"timeout-nodot-bubble-1.26": {file: "go1.26/mycorp_timeout.txt", goroutines: 15,
		running: []string{"TestBubble", "TestForkedLock", "TestParallelParent/a", "TestParallelParent/b", "TestPinned", "TestSeqParent", "TestSeqParent/inner"},
		tests: map[string]realTest{
			"TestBubble":           {"chan receive", "hang/hang.go:19", 4, "bubble"},
			"TestForkedLock":       {"semacquire", "xsync/sema.go:28", 1, ""},
			"TestPinned":           {"chan receive", "hang/hang.go:25", 1, "locked"},
			"TestParallelParent/a": {"chan receive", "hang/hang.go:19", 1, ""},
			"TestParallelParent/b": {"chan receive", "hang/hang.go:19", 1, ""},
			"TestSeqParent/inner":  {"chan receive", "hang/hang.go:19", 1, ""},
			"TestSeqParent":        {"waits for subtest TestSeqParent/inner", "hang/hang_test.go:23", 2, ""},
			"TestParallelParent":   {"waits for subtests TestParallelParent/a, TestParallelParent/b", "", 2, ""},
		}},
	// A test file named on the command line: command-line-arguments.
	"file-package-1.12": {file: "go1.12/mycorp_file.txt", goroutines: 4, tests: map[string]realTest{
		"TestFile": {"chan receive", "cla/hang_test.go:7", 2, ""},
	}},
	"file-package-1.26": {file: "go1.26/mycorp_file.txt", goroutines: 4, running: []string{"TestFile"}, tests: map[string]realTest{
		"TestFile": {"chan receive", "cla/hang_test.go:7", 2, ""},
	}},
	// Go 1.23 -json: the only test goroutine's stack is unavailable.
	"stack-unavailable-1.23": {file: "go1.23/mycorp_spin.json", goroutines: 3, running: []string{"TestSpin"}, tests: map[string]realTest{
		"TestSpin": {"running", "", 1, ""},
	}},
	// Go 1.27: labels after the header's brackets.
	"labels-1.27": {file: "go1.27/mycorp_labels.txt", goroutines: 4, running: []string{"TestLabels"}, tests: map[string]realTest{
		"TestLabels": {"chan receive", "hang/hang_test.go:17", 2, "labels"},
	}},
	// SIGQUIT at level 2 under Go 1.12: runtime.timerproc is hidden;
	// reflect's channel waits, a forked lock.
	"sigquit-old-runtime-1.12": {file: "go1.12/mycorp_sigquit.txt", goroutines: 10, other: 6},
	// debug=1 profiles: reflect.Select, Recv, Send and a forked lock.
	"profile1-1.12": {file: "go1.12/mycorp_profile1.txt", goroutines: 6, other: 6},
	"profile1-1.26": {file: "go1.26/mycorp_profile1.txt", goroutines: 6, other: 6},
}

// TestRealDumps reads a real dump of each kind that used to be misread and
// checks the goroutine count, the running tests, the goroutines attributed
// to each test, where each test waits and how.
func TestRealDumps(t *testing.T) {
	t.Parallel()
	for name, c := range realDumps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rel, file := path.Split(c.file)
			var ss []*DumpSummary
			err := SummarizeDumps(bytes.NewReader(readFixture(t, strings.TrimSuffix(rel, "/"), file)), SummaryOptions{}, func(s *DumpSummary) { ss = append(ss, s) })
			if err != nil || len(ss) != 1 {
				t.Fatalf("%d dumps, %v", len(ss), err)
			}
			s := ss[0]
			if s.Goroutines != c.goroutines {
				t.Errorf("%d goroutines, want %d", s.Goroutines, c.goroutines)
			}
			var running []string
			for _, rt := range s.RunningTests {
				running = append(running, rt.Name)
			}
			if !slices.Equal(running, c.running) {
				t.Errorf("running %q, want %q", running, c.running)
			}
			var names []string
			for _, ts := range s.Tests {
				names = append(names, ts.Test)
			}
			sort.Strings(names)
			var want []string
			for n := range c.tests {
				want = append(want, n)
			}
			sort.Strings(want)
			if !slices.Equal(names, want) {
				t.Errorf("tests %q, want %q", names, want)
			}
			for n, w := range c.tests {
				ts := findSummaryTest(s, n)
				if ts == nil {
					continue
				}
				if ts.State != w.state || !strings.HasSuffix(ts.Location, w.location) || w.location == "" && ts.Location != "" {
					t.Errorf("%s: %q at %q, want %q at …%s", n, ts.State, ts.Location, w.state, w.location)
				}
				members := 0
				for _, g := range ts.Goroutines {
					members += g.Count
				}
				if members != w.members {
					t.Errorf("%s: %d goroutines, want %d: %+v", n, members, w.members, ts.Goroutines)
				}
				if ts.Goroutines[0].Role != "test" {
					t.Errorf("%s: first group %q, want the test's", n, ts.Goroutines[0].Role)
				}
				if w.group != "" && !slices.ContainsFunc(ts.Goroutines, func(g StackGroup) bool { return checkGroupFlag(g, w.group) }) {
					t.Errorf("%s: no group is %s: %+v", n, w.group, ts.Goroutines)
				}
			}
			other := 0
			for _, g := range s.Other {
				other += g.Count
				if g.State == "other" || g.State == "runtime" || strings.HasPrefix(g.Function, "runtime.") {
					t.Errorf("other goroutine %v %q in %s", g.IDs, g.State, g.Function)
				}
			}
			if other != c.other {
				t.Errorf("%d other goroutines, want %d: %+v", other, c.other, s.Other)
			}
			for _, ts := range s.Tests {
				for _, g := range ts.Goroutines {
					if strings.Contains(g.Location, "/src/runtime/") {
						t.Errorf("%s: location in the runtime: %s", ts.Test, g.Location)
					}
				}
			}
		})
	}
}

func findSummaryTest(s *DumpSummary, name string) *TestSummary {
	for i := range s.Tests {
		if s.Tests[i].Test == name {
			return &s.Tests[i]
		}
	}
	return nil
}

func checkGroupFlag(g StackGroup, flag string) bool {
	switch flag {
	case "locked":
		return g.LockedToThread
	case "durable":
		return g.Durable
	case "bubble":
		return g.SynctestBubble == 1 && g.Durable
	case "labels":
		return g.Labels["worker"] == "fetch" && g.Labels["note"] == "a b, c:d"
	}
	return false
}

// TestRealDumpWaits: the wait states of the profile and SIGQUIT fixtures,
// one goroutine per kind.
func TestRealDumpWaits(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"main.reflectSelect":                  "select",
		"main.reflectRecv":                    "chan receive",
		"main.reflectSend":                    "chan send",
		"mycorp/platform/xsync.(*Mutex).Lock": "semacquire",
		"main.sleeper":                        "sleep",
	}
	for _, f := range []string{"go1.12/mycorp_profile1.txt", "go1.16/mycorp_profile1.txt", "go1.23/mycorp_profile1.txt", "go1.26/mycorp_profile1.txt", "go1.12/mycorp_sigquit.txt", "go1.26/mycorp_sigquit.txt"} {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			rel, file := path.Split(f)
			var ss []*DumpSummary
			err := SummarizeDumps(bytes.NewReader(readFixture(t, strings.TrimSuffix(rel, "/"), file)), SummaryOptions{}, func(s *DumpSummary) { ss = append(ss, s) })
			if err != nil || len(ss) != 1 {
				t.Fatalf("%d dumps, %v", len(ss), err)
			}
			got := map[string]string{}
			for _, g := range ss[0].Other {
				got[g.Function] = g.State
			}
			for fn, st := range want {
				if got[fn] != st {
					t.Errorf("%s: %q, want %q (all: %v)", fn, got[fn], st, got)
				}
			}
		})
	}
}

// TestAllAccountsForEveryGoroutine: with All, every goroutine of every
// fixture is shown once, under a test or among the others: none is lost
// (a parent waiting for subtests, a test paused in t.Parallel, the
// goroutine of a module without a dot).
func TestAllAccountsForEveryGoroutine(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "stackparse", "testdata", "dumps", "*", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		err = SummarizeDumps(bytes.NewReader(b), SummaryOptions{All: true}, func(s *DumpSummary) {
			seen := map[int64]int{}
			n := 0
			count := func(gs []StackGroup) {
				for _, g := range gs {
					n += g.Count
					for _, id := range g.IDs {
						seen[id]++
					}
				}
			}
			for _, ts := range s.Tests {
				count(ts.Goroutines)
			}
			count(s.Other)
			if n != s.Goroutines {
				t.Errorf("%s line %d: %d goroutines shown of %d", f, s.StartLine, n, s.Goroutines)
			}
			for id, k := range seen {
				if k > 1 {
					t.Errorf("%s line %d: goroutine %d shown %d times", f, s.StartLine, id, k)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
