package main

import (
	"strings"
	"testing"
)

// TestStacksRace: a race report of go test -race is a dump of kind race,
// its goroutines attributed to the test with the access each one made.
func TestStacksRace(t *testing.T) {
	for _, rel := range releases(t, "race.txt") {
		t.Run(rel, func(t *testing.T) {
			ss := stacksJSON(t, dumpFixture(rel, "race.txt"))
			if len(ss) != 1 || ss[0].Kind != "race" || ss[0].Goroutines != 2 || len(ss[0].Tests) != 1 {
				t.Fatalf("%+v", ss)
			}
			ts := ss[0].Tests[0]
			if ts.Test != "TestRace" || ts.State != "running" || !strings.HasSuffix(ts.Location, "race_test.go:18") || len(ts.Goroutines) != 2 {
				t.Fatalf("%+v", ts)
			}
			if !strings.HasPrefix(ts.Summary, "TestRace: data race: ") || !strings.Contains(ts.Summary, "race_test.go:28") {
				t.Errorf("summary %q", ts.Summary)
			}
			for _, g := range ts.Goroutines {
				if !strings.Contains(g.Race, " at 0x") {
					t.Errorf("goroutine %v: race %q", g.IDs, g.Race)
				}
			}
			if g := ts.Goroutines[1]; !strings.HasSuffix(g.Location, "race_test.go:28") || g.Function != "example.com/gen/race.bump" {
				t.Errorf("helper %+v", g)
			}
			out, _, code := stacksRun(t, "", "--color", "never", dumpFixture(rel, "race.txt"))
			if code != 0 || !strings.Contains(out, "race: Previous write at 0x") {
				t.Errorf("exit %d:\n%s", code, out)
			}
		})
	}
}

// TestStacksCutLocation: a frame whose location line is missing or cut
// takes the location of the next frame that has one, and says so.
func TestStacksCutLocation(t *testing.T) {
	for _, rel := range []string{"go1.20", "go1.26"} {
		t.Run(rel, func(t *testing.T) {
			in := dumpFixture("decorated", "cutloc_"+rel+".txt")
			ss := stacksJSON(t, in)
			if len(ss) != 1 {
				t.Fatalf("%d dumps", len(ss))
			}
			ts := findTest(ss[0], "TestMutexLeaf")
			if ts == nil || ts.Location != "/src/gen/hang/hang_test.go:18" || ts.State != "sync.Mutex.Lock" {
				t.Fatalf("%+v", ts)
			}
			g := ts.Goroutines[0]
			if g.LocationCut != "example.com/gen/hang.lockMutex" || g.Function != "example.com/gen/hang.TestMutexLeaf" {
				t.Errorf("%+v", g)
			}
			cuts := 0
			for _, b := range ss[0].Buckets {
				if b.LocationCut != "" {
					cuts++
					if strings.HasSuffix(b.Location, ":0") || b.Location == "" {
						t.Errorf("bucket %v at %q", b.IDs, b.Location)
					}
				}
			}
			if cuts != 2 {
				t.Errorf("%d buckets with a cut location, want 2", cuts)
			}
			out, _, _ := stacksRun(t, "", "--color", "never", in)
			if !strings.Contains(out, "hang_test.go:18  hang.TestMutexLeaf (line of hang.lockMutex cut)") || strings.Contains(out, ":0 ") {
				t.Errorf("text:\n%s", out)
			}
		})
	}
}
