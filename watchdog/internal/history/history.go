// Package history keeps the durations of tests across hangdog runs, so that
// the watchdog can show an ETA and adapt a test's stall threshold to how
// long it usually takes. The watchdog engine opens the file at the start of
// a run, asks Expected and Threshold per test, and records the run at the
// end.
//
// The file is JSON (see file), written whole to a temporary file and
// renamed over the old one, under an exclusive lock (flock on Unix; on
// Windows and other systems there is no lock, and two runs saving at the
// same instant may lose one run's samples, never the file). Save merges
// with what other runs saved since Open. It is bounded: MaxSamples
// durations per test, tests that their package ran MaxIdleRuns times
// without are dropped, and at most MaxTests tests are kept.
package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

// Version is the version of the file format; a file of another version is
// ignored (with a warning) and replaced on Save.
const Version = 1

// Defaults of the bounds; see the fields of History.
const (
	DefaultMaxSamples  = 20
	DefaultMaxIdleRuns = 30
	DefaultMaxTests    = 100_000
)

// DefaultPath returns where the history of the module rooted at moduleRoot
// lives by default: os.UserCacheDir()/hangdog/<hash>/history.json, where
// hash is a short SHA-256 of the absolute module root and variant.
//
// Not <module root>/.hangdog: durations describe a machine, not the code,
// so they do not belong in the repository (nothing to add to .gitignore,
// nothing committed by accident, read-only checkouts work), and the cache
// directory is what CI systems already know how to keep between jobs
// (~/.cache on Linux). variant separates histories whose durations differ
// for the same tests: the caller passes the go test flags that change
// speed, such as "-race" or "-cover" ("" for none).
func DefaultPath(moduleRoot, variant string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("history path: %w", err)
	}
	abs, err := filepath.Abs(moduleRoot)
	if err != nil {
		return "", fmt.Errorf("history path: %w", err)
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + variant))
	return filepath.Join(cache, "hangdog", hex.EncodeToString(sum[:8]), "history.json"), nil
}

// Stats describes the recent durations of one test.
type Stats struct {
	Count    int           // durations known, at most MaxSamples
	Median   time.Duration // of those durations
	P95      time.Duration // nearest rank: the max when Count < 20
	Max      time.Duration
	LastSeen time.Time // when the test last ran (start of its run)
}

// CorruptError is the warning of a history file that could not be read:
// truncated, not JSON, or of another version. Its content is ignored.
type CorruptError struct {
	Path   string
	Offset int64 // where decoding stopped, when known
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("history %s: ignoring unreadable file (at byte %d): %v", e.Path, e.Offset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// History is the duration history of one module. Its methods are safe for
// concurrent use; Save is safe against other processes saving the same
// file.
type History struct {
	// The bounds Save applies; zero means the default. Set them before
	// Record and Save.
	MaxSamples  int // durations kept per test
	MaxIdleRuns int // a test is dropped after its package ran this many times without it
	MaxTests    int // tests kept; the least recently seen go first

	// Warning is set by Open when the file existed but could not be read
	// (a *CorruptError); the history then starts empty.
	Warning error

	path string

	mu      sync.Mutex
	data    file               // as read at Open or last Save, plus what was recorded
	pending map[string][]entry // recorded since Open or the last Save, by package
	runs    map[string]int     // runs of each package recorded since then
}

// file is the JSON document.
type file struct {
	Version  int            `json:"version"`
	Packages map[string]int `json:"packages"` // package → runs recorded
	Tests    []entry        `json:"tests"`    // sorted by package, test
}

type entry struct {
	Package   string    `json:"package"`
	Test      string    `json:"test"`
	Durations []float64 `json:"durations"` // seconds, oldest first
	LastRun   int       `json:"last_run"`  // the package's run count when last seen
	LastSeen  time.Time `json:"last_seen"`
}

// Open reads the history at path. A missing file is an empty history. A
// file that cannot be decoded is ignored and reported in h.Warning. Open
// fails only when the file exists but cannot be read at all (permissions,
// a directory); callers should treat that as a warning too.
func Open(path string) (*History, error) {
	h := &History{path: path, data: file{Version: Version, Packages: map[string]int{}}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return h, nil
	case err != nil:
		return h, fmt.Errorf("history: %w", err)
	}
	f, werr := decode(path, b)
	h.Warning = werr
	if werr == nil {
		h.data = f
	}
	return h, nil
}

// decode parses a history file; any problem is a *CorruptError.
func decode(path string, b []byte) (file, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&f)
	if err == nil {
		// Nothing but white space may follow: a file is one document.
		if _, terr := dec.Token(); terr == nil {
			err = errors.New("data after the document")
		}
	}
	if err == nil && f.Version != Version {
		err = fmt.Errorf("version %d, want %d", f.Version, Version)
	}
	if err == nil {
		err = f.check()
	}
	if err != nil {
		return file{}, &CorruptError{Path: path, Offset: dec.InputOffset(), Err: err}
	}
	if f.Packages == nil {
		f.Packages = map[string]int{}
	}
	return f, nil
}

// check rejects documents that parse but cannot have been written by Save.
func (f *file) check() error {
	if f.Tests == nil || f.Packages == nil {
		return errors.New("missing tests or packages")
	}
	for i, e := range f.Tests {
		if e.Package == "" || e.Test == "" {
			return fmt.Errorf("test %d: no name", i)
		}
		for _, d := range e.Durations {
			if d < 0 || d != d {
				return fmt.Errorf("test %s %s: bad duration %v", e.Package, e.Test, d)
			}
		}
		if i > 0 && !less(&f.Tests[i-1], &e) {
			return fmt.Errorf("test %s %s: out of order or repeated", e.Package, e.Test)
		}
	}
	return nil
}

func less(a, b *entry) bool {
	if a.Package != b.Package {
		return a.Package < b.Package
	}
	return a.Test < b.Test
}

// Path returns the file's path.
func (h *History) Path() string { return h.path }

func (h *History) maxSamples() int  { return def(h.MaxSamples, DefaultMaxSamples) }
func (h *History) maxIdleRuns() int { return def(h.MaxIdleRuns, DefaultMaxIdleRuns) }
func (h *History) maxTests() int    { return def(h.MaxTests, DefaultMaxTests) }

func def(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func (h *History) find(pkg, test string) *entry {
	k := entry{Package: pkg, Test: test}
	i, ok := sort.Find(len(h.data.Tests), func(i int) int {
		switch {
		case less(&k, &h.data.Tests[i]):
			return -1
		case less(&h.data.Tests[i], &k):
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return &h.data.Tests[i]
}

// Expected returns the statistics of a test's recent durations; false
// when the history has none.
func (h *History) Expected(pkg, test string) (Stats, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.find(pkg, test)
	if e == nil || len(e.Durations) == 0 {
		return Stats{}, false
	}
	return stats(e), true
}

func stats(e *entry) Stats {
	d := slices.Clone(e.Durations)
	slices.Sort(d)
	n := len(d)
	rank := func(p float64) float64 { // nearest rank
		i := int(p*float64(n)+0.999999) - 1
		return d[min(max(i, 0), n-1)]
	}
	var median float64
	if n%2 == 1 {
		median = d[n/2]
	} else {
		median = (d[n/2-1] + d[n/2]) / 2
	}
	return Stats{
		Count: n, Median: secs(median), P95: secs(rank(0.95)), Max: secs(d[n-1]),
		LastSeen: e.LastSeen,
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Record adds the durations of the tests of run that passed or failed;
// hung, interrupted and skipped tests say nothing about how long a test
// takes. Each package of the run counts as one run of that package.
// Record changes only memory; Save writes.
func (h *History) Record(run *report.Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending == nil {
		h.pending, h.runs = map[string][]entry{}, map[string]int{}
	}
	ran := map[string]bool{}
	for _, p := range run.Packages {
		ran[p.Package] = true
	}
	for _, t := range run.Tests {
		ran[t.Package] = true
	}
	for p := range ran {
		h.runs[p]++
	}
	var add []entry
	for _, t := range run.Tests {
		if t.Result != "pass" && t.Result != "fail" {
			continue
		}
		e := entry{Package: t.Package, Test: t.Test, Durations: []float64{t.ElapsedSeconds}, LastSeen: t.Start.UTC()}
		h.pending[t.Package] = append(h.pending[t.Package], e)
		add = append(add, e)
	}
	// Make the new durations visible to Expected at once.
	counts := maps(h.data.Packages)
	for p := range ran {
		counts[p]++
	}
	h.data = merge(h.data, add, counts, h.maxSamples())
}

func maps(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// merge adds the samples of add (in order) to base, whose package run
// counts become counts. base is not modified.
func merge(base file, add []entry, counts map[string]int, maxSamples int) file {
	idx := make(map[[2]string]int, len(base.Tests))
	tests := make([]entry, len(base.Tests))
	for i, e := range base.Tests {
		e.Durations = slices.Clone(e.Durations)
		tests[i] = e
		idx[[2]string{e.Package, e.Test}] = i
	}
	for _, a := range add {
		k := [2]string{a.Package, a.Test}
		i, ok := idx[k]
		if !ok {
			i = len(tests)
			idx[k] = i
			tests = append(tests, entry{Package: a.Package, Test: a.Test})
		}
		e := &tests[i]
		e.Durations = append(e.Durations, a.Durations...)
		if n := len(e.Durations); n > maxSamples {
			e.Durations = slices.Clone(e.Durations[n-maxSamples:])
		}
		e.LastRun = counts[a.Package]
		if a.LastSeen.After(e.LastSeen) {
			e.LastSeen = a.LastSeen
		}
	}
	sort.Slice(tests, func(i, j int) bool { return less(&tests[i], &tests[j]) })
	return file{Version: Version, Packages: counts, Tests: tests}
}

// prune applies the bounds.
func (h *History) prune(f *file) {
	kept := f.Tests[:0]
	for _, e := range f.Tests {
		if f.Packages[e.Package]-e.LastRun < h.maxIdleRuns() {
			kept = append(kept, e)
		}
	}
	f.Tests = kept
	if len(f.Tests) > h.maxTests() {
		byAge := slices.Clone(f.Tests)
		sort.SliceStable(byAge, func(i, j int) bool { return byAge[i].LastSeen.After(byAge[j].LastSeen) })
		byAge = byAge[:h.maxTests()]
		sort.Slice(byAge, func(i, j int) bool { return less(&byAge[i], &byAge[j]) })
		f.Tests = byAge
	}
	// Packages without tests left are forgotten too.
	has := map[string]bool{}
	for _, e := range f.Tests {
		has[e.Package] = true
	}
	for p := range f.Packages {
		if !has[p] {
			delete(f.Packages, p)
		}
	}
}

// Threshold returns the stall threshold for a test with these statistics
// when the configured threshold is base, and the reason in words.
//
// A test whose usual duration (p95) is more than base / ExtendFactor — it
// would come close to being called stalled while doing its normal work —
// gets ExtendFactor × p95 + ExtendMargin: a test that always takes 90 s is not
// stalled at 60 s but at 3m10s. A test that is always fast gets
// ShortenFactor × p95 but never less than Floor: a test that always takes
// 50 ms is suspicious after 5 s. The factors are generous because a
// false stall costs a SIGQUIT of the whole test binary; the floor leaves
// room for a loaded CI machine. With fewer than MinSamples durations the
// threshold is base.
//
// A stall is no progress, not total duration; a long test that prints or
// runs subtests never waits for its threshold. Using the duration as the
// bound on the quiet time is therefore conservative.
func Threshold(s Stats, base time.Duration) (time.Duration, string) {
	if s.Count < MinSamples {
		return base, fmt.Sprintf("%s (configured; %d of %d durations needed to adapt)", base, s.Count, MinSamples)
	}
	if ExtendFactor*s.P95 > base {
		long := ExtendFactor*s.P95 + ExtendMargin
		return long, fmt.Sprintf("%s (raised from %s: usually takes up to %s, p95 of %d runs)",
			round(long), base, round(s.P95), s.Count)
	}
	short := max(Floor, ShortenFactor*s.P95)
	if short < base {
		return short, fmt.Sprintf("%s (lowered from %s: usually takes %s, p95 of %d runs)",
			round(short), base, round(s.P95), s.Count)
	}
	return base, fmt.Sprintf("%s (configured; usually takes %s, p95 of %d runs)", base, round(s.P95), s.Count)
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// String describes s in one line, for logs.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d runs, median %s, p95 %s, max %s", s.Count, round(s.Median), round(s.P95), round(s.Max))
	if !s.LastSeen.IsZero() {
		fmt.Fprintf(&b, ", last %s", s.LastSeen.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Len returns how many tests the history knows: the expected number of
// tests of a whole run, for progress and ETA.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.data.Tests)
}
