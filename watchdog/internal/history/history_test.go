package history

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

var t0 = time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)

// mkRun returns a run of package pkg in which each test took the given
// seconds and passed (a negative duration: the test hung).
func mkRun(pkg string, start time.Time, tests map[string]float64) *report.Run {
	run := &report.Run{Packages: []report.PackageRun{{Package: pkg, Result: "pass", Start: start}}}
	for name, s := range tests {
		r := report.TestRun{Package: pkg, Test: name, Result: "pass", Start: start, ElapsedSeconds: s}
		if s < 0 {
			r.Result, r.ElapsedSeconds = "hung", 99
		}
		run.Tests = append(run.Tests, r)
	}
	return run
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "history.json")
	h, err := Open(path)
	if err != nil || h.Warning != nil {
		t.Fatalf("Open missing file: %v, %v", err, h.Warning)
	}
	if _, ok := h.Expected("p", "TestA"); ok {
		t.Fatal("empty history knows TestA")
	}
	for i, d := range []float64{1, 3, 2, 5, 4} {
		h.Record(mkRun("p", t0.Add(time.Duration(i)*time.Hour), map[string]float64{"TestA": d, "TestHang": -1}))
	}
	want := Stats{Count: 5, Median: 3 * time.Second, P95: 5 * time.Second, Max: 5 * time.Second, LastSeen: t0.Add(4 * time.Hour)}
	if got, ok := h.Expected("p", "TestA"); !ok || got != want {
		t.Errorf("before Save: %+v, %v; want %+v", got, ok, want)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h2, err := Open(path)
	if err != nil || h2.Warning != nil {
		t.Fatalf("Open: %v, %v", err, h2.Warning)
	}
	if got, ok := h2.Expected("p", "TestA"); !ok || got != want {
		t.Errorf("after Save: %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := h2.Expected("p", "TestHang"); ok {
		t.Errorf("a hung test's duration was recorded")
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v %v", fi.Mode(), err)
	}
	// Saving again without new runs changes nothing.
	b1, _ := os.ReadFile(path)
	if err := h2.Save(); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b1) != string(b2) {
		t.Errorf("a Save without Record changed the file:\n%s\n%s", b1, b2)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d                 []float64
		median, p95, max_ float64
	}{
		{[]float64{2}, 2, 2, 2},
		{[]float64{1, 2}, 1.5, 2, 2},
		{[]float64{3, 1, 2}, 2, 3, 3},
		// 20 samples: p95 is the 19th, not the max.
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100}, 10.5, 19, 100},
	} {
		s := stats(&entry{Durations: tc.d})
		if s.Count != len(tc.d) || s.Median != secs(tc.median) || s.P95 != secs(tc.p95) || s.Max != secs(tc.max_) {
			t.Errorf("%v: %v", tc.d, s)
		}
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.json")
	h, _ := Open(path)
	h.MaxSamples, h.MaxIdleRuns, h.MaxTests = 3, 2, 4
	h.Record(mkRun("p", t0, map[string]float64{"TestOld": 1, "TestA": 1}))
	h.Record(mkRun("q", t0.Add(time.Minute), map[string]float64{"TestQ1": 1, "TestQ2": 1, "TestQ3": 1}))
	for i := range 3 {
		h.Record(mkRun("p", t0.Add(time.Duration(i+2)*time.Minute), map[string]float64{"TestA": float64(i + 2)}))
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h, _ = Open(path)
	// TestOld: p ran 3 times without it (idle ≥ 2). TestA keeps its last 3
	// durations. The 4 tests left fit the cap.
	if _, ok := h.Expected("p", "TestOld"); ok {
		t.Errorf("TestOld was kept after %d idle runs", 3)
	}
	if s, ok := h.Expected("p", "TestA"); !ok || s.Count != 3 || s.Median != 3*time.Second {
		t.Errorf("TestA: %v", s)
	}
	for _, q := range []string{"TestQ1", "TestQ2", "TestQ3"} {
		if _, ok := h.Expected("q", q); !ok {
			t.Errorf("%s dropped", q)
		}
	}
	// The cap drops the least recently seen.
	h.MaxTests = 2
	h.Record(mkRun("r", t0.Add(time.Hour), map[string]float64{"TestR": 1}))
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h, _ = Open(path)
	_, okA := h.Expected("p", "TestA")
	_, okR := h.Expected("r", "TestR")
	_, okQ := h.Expected("q", "TestQ1")
	if !okA || !okR || okQ {
		t.Errorf("cap of 2 kept TestA=%v TestR=%v TestQ1=%v; want the two most recent", okA, okR, okQ)
	}
}

// Every truncation of a valid file, and other garbage, is a warning and an
// empty history; Save then replaces the file.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "history.json")
	h, _ := Open(path)
	h.Record(mkRun("example.com/p", t0, map[string]float64{"TestA": 1.5, "TestB/sub": 0.25}))
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"null":          []byte("null"),
		"empty object":  []byte("{}"),
		"other version": []byte(strings.Replace(string(good), `"version": 1`, `"version": 2`, 1)),
		"trailing data": append(append([]byte{}, good...), "{}"...),
		"binary":        {0xff, 0xfe, 0, 1, 2},
		"negative":      []byte(strings.Replace(string(good), "1.5", "-1.5", 1)),
		"unknown field": []byte(strings.Replace(string(good), `"version"`, `"x": 1, "version"`, 1)),
	}
	// Cutting the final newline leaves a complete document; every shorter
	// prefix is truncated.
	for i := range len(good) - 1 {
		bad[fmt.Sprintf("truncated at %d", i)] = good[:i]
	}
	for name, b := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := Open(p)
		var ce *CorruptError
		if err != nil || !errors.As(h.Warning, &ce) || ce.Path != p {
			t.Errorf("%s: Open = %v, warning %v; want a *CorruptError", name, err, h.Warning)
			continue
		}
		if _, ok := h.Expected("example.com/p", "TestA"); ok {
			t.Errorf("%s: corrupt content was used", name)
		}
	}
	// Saving over a corrupt file replaces it.
	p := filepath.Join(dir, "truncated_at_40.json")
	h, _ = Open(p)
	h.Record(mkRun("example.com/p", t0, map[string]float64{"TestC": 2}))
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	h, _ = Open(p)
	if _, ok := h.Expected("example.com/p", "TestC"); !ok || h.Warning != nil {
		t.Errorf("after Save over a corrupt file: %v", h.Warning)
	}
	// Without the final newline the file is complete.
	p = filepath.Join(dir, "no-newline.json")
	os.WriteFile(p, good[:len(good)-1], 0o600)
	if h, _ := Open(p); h.Warning != nil {
		t.Errorf("file without final newline: %v", h.Warning)
	}
}

func TestOpenUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h, err := Open(dir) // a directory
	if err == nil || h == nil {
		t.Fatalf("Open(directory) = %v, %v; want a usable history and an error", h, err)
	}
}

// saveRuns opens the history, records n runs of package pkg with test
// own (unique to the caller) and TestShared, and saves after each.
func saveRuns(path, pkg, own string, n int) error {
	for i := range n {
		h, err := Open(path)
		if err != nil {
			return err
		}
		if h.Warning != nil {
			return h.Warning // never: writers replace the file atomically
		}
		h.Record(mkRun(pkg, t0.Add(time.Duration(i)*time.Second), map[string]float64{own: 1, "TestShared": 2}))
		if err := h.Save(); err != nil {
			return err
		}
	}
	return nil
}

func checkShared(t *testing.T, path string, writers, runs int) {
	t.Helper()
	h, err := Open(path)
	if err != nil || h.Warning != nil {
		t.Fatalf("Open: %v %v", err, h.Warning)
	}
	for w := range writers {
		s, ok := h.Expected("p", fmt.Sprintf("TestOwn%d", w))
		if !ok || s.Count != min(runs, DefaultMaxSamples) {
			t.Errorf("TestOwn%d: %v, %v; want %d samples: a save was lost", w, s, ok, runs)
		}
	}
	if s, _ := h.Expected("p", "TestShared"); s.Count != min(writers*runs, DefaultMaxSamples) {
		t.Errorf("TestShared: %d samples, want %d", s.Count, min(writers*runs, DefaultMaxSamples))
	}
	if got := h.data.Packages["p"]; got != writers*runs {
		t.Errorf("package runs %d, want %d", got, writers*runs)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no file lock on " + runtime.GOOS)
	}
	path := filepath.Join(t.TempDir(), "history.json")
	const writers, runs = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() { errs <- saveRuns(path, "p", fmt.Sprintf("TestOwn%d", w), runs) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkShared(t, path, writers, runs)
}

// TestConcurrentProcesses runs several copies of the test binary that save
// into one file at the same time.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no file lock on " + runtime.GOOS)
	}
	path := filepath.Join(t.TempDir(), "history.json")
	const writers, runs = 4, 5
	var cmds []*exec.Cmd
	for w := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "HISTORY_HELPER="+path, "HISTORY_HELPER_ID="+strconv.Itoa(w), "HISTORY_HELPER_RUNS="+strconv.Itoa(runs))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	checkShared(t, path, writers, runs)
}

func TestHelperProcess(t *testing.T) {
	path := os.Getenv("HISTORY_HELPER")
	if path == "" {
		t.Skip("helper for TestConcurrentProcesses")
	}
	runs, _ := strconv.Atoi(os.Getenv("HISTORY_HELPER_RUNS"))
	if err := saveRuns(path, "p", "TestOwn"+os.Getenv("HISTORY_HELPER_ID"), runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	base := time.Minute
	for _, tc := range []struct {
		name   string
		s      Stats
		want   time.Duration
		reason string
	}{
		{"no history", Stats{}, base, "1m0s (configured; 0 of 3 durations needed to adapt)"},
		{"two runs", Stats{Count: 2, P95: time.Hour}, base, "1m0s (configured; 2 of 3 durations needed to adapt)"},
		{"always 90s", Stats{Count: 10, P95: 90 * time.Second}, 190 * time.Second,
			"3m10s (raised from 1m0s: usually takes up to 1m30s, p95 of 10 runs)"},
		{"close to base", Stats{Count: 10, P95: 35 * time.Second}, 80 * time.Second,
			"1m20s (raised from 1m0s: usually takes up to 35s, p95 of 10 runs)"},
		{"half of base", Stats{Count: 10, P95: 30 * time.Second}, base,
			"1m0s (configured; usually takes 30s, p95 of 10 runs)"},
		{"always 50ms", Stats{Count: 10, P95: 50 * time.Millisecond}, Floor,
			"5s (lowered from 1m0s: usually takes 50ms, p95 of 10 runs)"},
		{"about 2s", Stats{Count: 10, P95: 2 * time.Second}, 20 * time.Second,
			"20s (lowered from 1m0s: usually takes 2s, p95 of 10 runs)"},
		{"in between", Stats{Count: 10, P95: 8 * time.Second}, base,
			"1m0s (configured; usually takes 8s, p95 of 10 runs)"},
		{"base below floor", Stats{Count: 10, P95: time.Millisecond}, 2 * time.Second,
			"2s (configured; usually takes 1ms, p95 of 10 runs)"},
	} {
		b := base
		if tc.name == "base below floor" {
			b = 2 * time.Second
		}
		got, why := Threshold(tc.s, b)
		if got != tc.want || why != tc.reason {
			t.Errorf("%s: Threshold = %v, %q; want %v, %q", tc.name, got, why, tc.want, tc.reason)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CACHE_HOME is read on Linux")
	}
	t.Setenv("XDG_CACHE_HOME", "/cache")
	a, err := DefaultPath("/src/mod", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DefaultPath("/src/mod", "-race")
	c, _ := DefaultPath("/src/other", "")
	if !strings.HasPrefix(a, "/cache/hangdog/") || !strings.HasSuffix(a, "/history.json") || a == b || a == c {
		t.Errorf("paths %s %s %s", a, b, c)
	}
}
