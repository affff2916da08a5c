package gotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyLeakFiles copies testdata/leakfiles/VERSION into a new directory.
func copyLeakFiles(t *testing.T, version string) string {
	t.Helper()
	src := filepath.Join("testdata", "leakfiles", version)
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestLeaks reads the agent's files of testdata/leaks/leaky, written under
// three Go versions (testdata/leakfiles/gen.sh).
func TestLeaks(t *testing.T) {
	want := map[string]struct {
		count           int
		state, location string
		createdBy       string
	}{
		"TestSend":             {2, "chan send", "leaky.go:15", "example.com/leaky.FirstResult"},
		"TestMutex":            {1, "sync.Mutex.Lock", "leaky.go:28", "example.com/leaky.(*Counter).Report"},
		"TestSelectForever":    {1, "select (no cases)", "leaky.go:73", "example.com/leaky.Forever"},
		"TestContext":          {1, "select", "leaky.go:46", "example.com/leaky.Watch"},
		"TestSubtests/blank":   {1, "sync.WaitGroup.Wait", "leaky.go:67", "example.com/leaky.Fanout"},
		"TestParallel/send":    {1, "chan send", "leaky.go:15", "example.com/leaky.FirstResult"},
		"TestParallel/forever": {1, "select (no cases)", "leaky.go:73", "example.com/leaky.Forever"},
		"TestTopParallel":      {1, "sync.Mutex.Lock", "leaky.go:28", "example.com/leaky.(*Counter).Report"},
	}
	for _, v := range []string{"go1.21.13", "go1.26.8", "go1.27.3"} {
		t.Run(v, func(t *testing.T) {
			dir := copyLeakFiles(t, v)
			proven := v == "go1.27.3"
			if leaks, checks, err := Leaks(dir, "example.com/other", "/src/testdata/leaks/leaky"); len(leaks)+len(checks) != 0 || err != nil {
				t.Errorf("another package: %d leaks, %+v, %v", len(leaks), checks, err)
			}
			leaks, checks, err := Leaks(dir, "example.com/leaky", "/src/testdata/leaks/leaky")
			if err != nil {
				t.Fatal(err)
			}
			if len(checks) != 1 || checks[0].GoVersion != v || checks[0].Tests != 14 || checks[0].Leaks != 8 || checks[0].DetectionGC != proven || checks[0].Unchecked != "" {
				t.Errorf("checks %+v", checks)
			}
			if len(leaks) != len(want) {
				t.Errorf("%d leaks, want %d", len(leaks), len(want))
			}
			for _, l := range leaks {
				w, ok := want[l.Test]
				if !ok || len(l.Goroutines) != 1 {
					t.Errorf("leak %s: %+v", l.Test, l.Goroutines)
					continue
				}
				g := l.Goroutines[0]
				if l.Package != "example.com/leaky" || l.Run != 1 || l.Proven != proven || l.GraceSeconds != 1 || l.PID == 0 ||
					g.Count != w.count || g.State != w.state || g.Location != w.location || g.CreatedBy != w.createdBy || g.Role != "helper" ||
					len(g.Stack) == 0 || !strings.HasPrefix(g.Function, "example.com/leaky.") {
					t.Errorf("leak %s: %+v proven %v run %d, group %+v", l.Test, l, l.Proven, l.Run, g)
				}
				// The dump and the record agree on the ids where the
				// stack is this test's alone.
				if l.Test == "TestContext" && (len(g.IDs) != 1 || g.IDs[0] == 0) {
					t.Errorf("TestContext: ids %v", g.IDs)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*leak*.json")); len(left) != 0 {
				t.Errorf("files left after reading: %v", left)
			}
			if again, checks, _ := Leaks(dir, "example.com/leaky", ""); len(again)+len(checks) != 0 {
				t.Errorf("read twice")
			}
		})
	}
}

// TestLeaksDamaged: a file that cannot be decoded is named in the error,
// the others are read; a binary without an end file was cut short.
func TestLeaksDamaged(t *testing.T) {
	dir := copyLeakFiles(t, "go1.26.8")
	ends, _ := filepath.Glob(filepath.Join(dir, "*-leakend.json"))
	leaks, _ := filepath.Glob(filepath.Join(dir, "*-leak-1.json"))
	if len(ends) != 1 || len(leaks) != 1 {
		t.Fatal("fixture files missing")
	}
	os.Remove(ends[0])
	if err := os.WriteFile(leaks[0], []byte(`{"package": "example.com/leaky", "dump": `), 0o600); err != nil {
		t.Fatal(err)
	}
	got, checks, err := Leaks(dir, "example.com/leaky", "")
	if err == nil || !strings.Contains(err.Error(), filepath.Base(leaks[0])) {
		t.Errorf("error %v", err)
	}
	if len(got) != 7 {
		t.Errorf("%d leaks, want 7", len(got))
	}
	if len(checks) != 1 || checks[0].Unchecked != UncheckedCut || checks[0].Leaks != 7 {
		t.Errorf("checks %+v", checks)
	}
}

// TestLeaksModuleWithoutDot: a module path without a dot, in a dump whose
// first goroutines show no standard library frame (so the dump does not
// tell GOROOT): the location is still in the user's code, not in sync.
func TestLeaksModuleWithoutDot(t *testing.T) {
	dir := copyLeakFiles(t, "nodot")
	leaks, _, err := Leaks(dir, "nodot", "/src/testdata/leaks/nodot")
	if err != nil || len(leaks) != 1 || len(leaks[0].Goroutines) != 1 {
		t.Fatalf("leaks %+v, %v", leaks, err)
	}
	g := leaks[0].Goroutines[0]
	if leaks[0].Test != "TestLeakMany" || g.Count != 100 || g.State != "sync.Mutex.Lock" || g.Location != "nodot_test.go:13" || g.Function != "nodot.wait" {
		t.Errorf("group %d × %q at %q in %q", g.Count, g.State, g.Location, g.Function)
	}
}
