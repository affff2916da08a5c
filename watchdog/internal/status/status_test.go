package status

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

func newLine(opts Options) (*Line, *bytes.Buffer, *clock) {
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts.Now = c.now
	return New(&buf, opts), &buf, c
}

var snap = Snapshot{
	Passed: 115, Failed: 3, Skipped: 2, Hung: 1, Running: 4, Total: 300, ETA: 80 * time.Second,
	Longest: []RunningTest{
		{Package: "p", Test: "TestSlow", Running: 45 * time.Second, Quiet: 30 * time.Second},
		{Package: "p", Test: "TestB", Running: 12 * time.Second, Quiet: 100 * time.Millisecond},
	},
}

const plain = "[121/300] 115 passed, 3 failed, 2 skipped, 1 hung | 4 running | ETA 1m20s | TestSlow 45s (quiet 30s), TestB 12s"

func TestNotTTY(t *testing.T) {
	t.Parallel()
	l, buf, _ := newLine(Options{})
	l.Update(snap)
	l.Write([]byte("=== RUN   TestA\n"))
	l.Write([]byte("half"))
	l.Update(snap)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "=== RUN   TestA\nhalf" {
		t.Errorf("not a terminal: got %q", got)
	}
}

func TestSequence(t *testing.T) {
	t.Parallel()
	l, buf, c := newLine(Options{TTY: true, NoColor: true, Width: func() int { return 200 }})
	step := func(name, want string, f func()) {
		t.Helper()
		buf.Reset()
		f()
		if got := buf.String(); got != want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	step("output before any snapshot", "ok  \tp\t0.1s\n", func() { l.Write([]byte("ok  \tp\t0.1s\n")) })
	step("first update draws", plain, func() { l.Update(snap) })
	step("update within 100ms waits", "", func() { c.add(50 * time.Millisecond); l.Update(snap) })
	step("update after 100ms redraws", erase+plain, func() { c.add(50 * time.Millisecond); l.Update(snap) })
	step("a whole line: erase, line, redraw", erase+"--- FAIL: TestX (0.00s)\n"+plain, func() {
		l.Write([]byte("--- FAIL: TestX (0.00s)\n"))
	})
	step("half a line: erase, no redraw", erase+"progress: 10%", func() { l.Write([]byte("progress: 10%")) })
	step("update while mid-line: nothing", "", func() { c.add(time.Second); l.Update(snap) })
	step("rest of the line: redraw", " done\n"+plain, func() { l.Write([]byte(" done\n")) })
	step("empty write: nothing", "", func() { l.Write(nil) })
	step("close erases", erase, func() { l.Close() })
	step("after close: through", "x\n", func() { l.Write([]byte("x\n")); l.Update(snap) })
	step("close twice", "", func() { l.Close() })
}

func TestColor(t *testing.T) {
	t.Parallel()
	l, buf, _ := newLine(Options{TTY: true, Width: func() int { return 200 }})
	l.Update(Snapshot{Passed: 1, Failed: 2, Hung: 1, Running: 1})
	want := "\x1b[32m1 passed\x1b[0m, \x1b[31m2 failed\x1b[0m, \x1b[35m1 hung\x1b[0m | 1 running"
	if got := buf.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestWidth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		width int
		want  string
	}{
		{0, plain[:78] + "…"}, // 80 columns by default, 79 used
		{41, plain[:39] + "…"},
		{200, plain},
		{19, ""}, // too narrow: no line
	} {
		l, buf, _ := newLine(Options{TTY: true, NoColor: true, Width: func() int { return tc.width }})
		l.Update(snap)
		if got := buf.String(); got != tc.want {
			t.Errorf("width %d: got %q, want %q", tc.width, got, tc.want)
		}
		if n := len([]rune(buf.String())); tc.width > 0 && n >= tc.width {
			t.Errorf("width %d: line of %d columns", tc.width, n)
		}
	}
	// Cut inside a coloured segment: the colour is still reset.
	l, buf, _ := newLine(Options{TTY: true, Width: func() int { return 25 }})
	l.Update(Snapshot{Passed: 1234567, Failed: 1234567})
	if got, want := buf.String(), "\x1b[32m1234567 passed\x1b[0m, \x1b[31m1234567…\x1b[0m"; got != want {
		t.Errorf("cut colour: got %q, want %q", got, want)
	}
}

func TestHostileName(t *testing.T) {
	t.Parallel()
	l, buf, _ := newLine(Options{TTY: true, NoColor: true, Width: func() int { return 200 }})
	l.Update(Snapshot{Running: 1, Longest: []RunningTest{{Test: "Test\x1b[2J\r\nX\xff", Running: time.Second}}})
	if got, want := buf.String(), "0 passed | 1 running | Test?[2J??X? 1s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLongestCap(t *testing.T) {
	t.Parallel()
	l, buf, _ := newLine(Options{TTY: true, NoColor: true, Width: func() int { return 500 }})
	var s Snapshot
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		s.Longest = append(s.Longest, RunningTest{Test: "Test" + n, Running: 2 * time.Second})
	}
	l.Update(s)
	if got := buf.String(); strings.Contains(got, "TestD") || !strings.Contains(got, "TestC") {
		t.Errorf("got %q, want the first %d", got, MaxLongest)
	}
}

type errWriter struct{ n int }

var errBroken = errors.New("broken pipe")

func (w *errWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), errBroken }

func TestWriteError(t *testing.T) {
	t.Parallel()
	ew := &errWriter{}
	c := &clock{}
	l := New(ew, Options{TTY: true, NoColor: true, Now: c.now})
	if err := l.Update(snap); !errors.Is(err, errBroken) {
		t.Errorf("Update: %v", err)
	}
	// Nothing is shown now, so a write does not start with an erase; the
	// count is of p's bytes only.
	ew.n = 3
	if n, err := l.Write([]byte("hello\n")); n != 3 || !errors.Is(err, errBroken) {
		t.Errorf("Write = %d, %v; want 3, %v", n, err, errBroken)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after a failed draw erased anyway: %v", err)
	}
}

func TestShort(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond:                    "850ms",
		12 * time.Second:                          "12s",
		3*time.Minute + 5*time.Second:             "3m05s",
		time.Hour + 2*time.Minute + 9*time.Second: "1h02m",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%v) = %q, want %q", d, got, want)
		}
	}
}

// Writes to another stream of the same terminal erase and redraw too.
func TestAlso(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	l := New(&out, Options{TTY: true, NoColor: true, Width: func() int { return 200 }})
	stderr := l.Also(&errOut)
	l.Update(Snapshot{Passed: 1})
	stderr.Write([]byte("hangdog: STALL p TestX\n"))
	l.Write([]byte("ok\n"))
	if got, want := out.String(), "1 passed | 0 running"+erase+"ok\n1 passed | 0 running"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := errOut.String(), erase+"hangdog: STALL p TestX\n1 passed | 0 running"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	l.Close()
	stderr.Write([]byte("x"))
	if !strings.HasSuffix(errOut.String(), "running"+"x") {
		t.Errorf("after Close: %q", errOut.String())
	}
}
