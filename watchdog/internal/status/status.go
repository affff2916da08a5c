// Package status draws a live status line under the test output in a
// terminal — counts, running tests, ETA, the tests that run longest — like
// pytest's progress. The hangdog command wraps its stdout in a Line when
// stdout is a terminal, writes the test output through it, and calls
// Update as the run progresses.
//
// The line is the last line of the terminal, with no newline after it.
// Before test output is written the line is erased ("\r", then ESC [K);
// after it, the line is drawn again, but only if the output ends at the
// start of a line: a test that printed half a line gets it back intact, and
// the status waits until the line is complete. Erasing, the output and
// redrawing go out in one Write to the underlying writer, so the terminal
// does not flicker. The line is cut to one column less than the terminal's
// width so that it never wraps.
package status

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultMinInterval is how often Update redraws at most: ten times a
// second looks live, and costs a terminal nothing.
const DefaultMinInterval = 100 * time.Millisecond

// MaxLongest is how many of the longest-running tests the line names.
const MaxLongest = 3

// Options configures a Line. The zero value writes through and never
// draws (not a terminal).
type Options struct {
	// TTY says that the writer is a terminal; without it a Line only
	// writes through.
	TTY bool
	// NoColor draws without colours (the caller reads NO_COLOR).
	NoColor bool
	// Width returns the terminal's width in columns, asked at every draw
	// (terminals resize); nil or a result below 1 means 80.
	Width func() int
	// MinInterval bounds how often Update redraws; 0 means
	// DefaultMinInterval.
	MinInterval time.Duration
	// Now is the clock; nil means time.Now. For tests.
	Now func() time.Time
}

// Snapshot is the state of a run the line shows.
type Snapshot struct {
	Passed, Failed, Skipped, Hung int
	Running                       int           // tests running now
	Total                         int           // tests expected in all, 0 if unknown
	ETA                           time.Duration // time left, 0 if unknown
	// Longest are the running tests that have run longest, longest
	// first; the line shows the first MaxLongest that fit.
	Longest []RunningTest
}

// RunningTest is a test that is running.
type RunningTest struct {
	Package, Test  string
	Running, Quiet time.Duration // since it started; since its last progress
}

// Line is an io.Writer that keeps a status line under what is written
// through it. Its methods are safe for concurrent use.
type Line struct {
	w    io.Writer
	opts Options

	mu        sync.Mutex
	snap      Snapshot
	haveSnap  bool
	shown     bool // the line is on the terminal now
	lineStart bool // the output so far ends at the start of a line
	lastDraw  time.Time
	closed    bool
	buf       []byte
}

// New returns a Line writing to w.
func New(w io.Writer, opts Options) *Line {
	if opts.MinInterval <= 0 {
		opts.MinInterval = DefaultMinInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Line{w: w, opts: opts, lineStart: true}
}

const erase = "\r\x1b[K"

// Write writes p, the test output, to the underlying writer: erasing the
// status line first and drawing it again after p when p ends a line. It
// returns len(p) on success; on an error, how much of p was written, at
// most. p is not retained.
func (l *Line) Write(p []byte) (int, error) {
	return l.write(l.w, p)
}

// Also returns a writer for another stream to the same terminal, such as
// stderr when the Line wraps stdout: its writes erase and redraw the line
// as Write does, under the same lock, so hangdog's own messages do not
// land in the middle of the status line. Not a terminal: writes go to w.
func (l *Line) Also(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) { return l.write(w, p) })
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (l *Line) write(w io.Writer, p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.opts.TTY || l.closed {
		return w.Write(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	l.buf = l.buf[:0]
	pre := 0
	if l.shown {
		l.buf = append(l.buf, erase...)
		pre = len(erase)
		l.shown = false
	}
	l.buf = append(l.buf, p...)
	l.lineStart = p[len(p)-1] == '\n'
	if l.lineStart && l.haveSnap {
		if s := l.render(); s != "" {
			l.buf = append(l.buf, s...)
			l.shown = true
			l.lastDraw = l.opts.Now()
		}
	}
	n, err := w.Write(l.buf)
	if err != nil {
		l.shown = false // unknown; do not erase what may not be there
		return min(max(n-pre, 0), len(p)), err
	}
	return len(p), nil
}

// Update sets what the line shows. It redraws at once if the output ends
// at the start of a line and the line was not drawn in the last
// MinInterval; otherwise the snapshot is drawn with the next output that
// ends a line, or by a later Update. The caller calls Update regularly (at
// every heartbeat tick) so that the last snapshot is shown in time.
func (l *Line) Update(s Snapshot) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.Longest = append([]RunningTest(nil), s.Longest[:min(len(s.Longest), MaxLongest)]...)
	l.snap, l.haveSnap = s, true
	if !l.opts.TTY || l.closed || !l.lineStart {
		return nil
	}
	now := l.opts.Now()
	if l.shown && now.Sub(l.lastDraw) < l.opts.MinInterval {
		return nil
	}
	l.buf = l.buf[:0]
	if l.shown {
		l.buf = append(l.buf, erase...)
	}
	s2 := l.render()
	l.buf = append(l.buf, s2...)
	l.shown = s2 != ""
	l.lastDraw = now
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	if err != nil {
		l.shown = false
	}
	return err
}

// Close erases the line; later writes go straight through and Update
// does nothing. It returns the error of erasing, if any.
func (l *Line) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if !l.shown {
		return nil
	}
	l.shown = false
	_, err := io.WriteString(l.w, erase)
	return err
}

// Colours (SGR).
const (
	green   = "\x1b[32m"
	red     = "\x1b[31m"
	yellow  = "\x1b[33m"
	magenta = "\x1b[35m"
	dim     = "\x1b[2m"
	reset   = "\x1b[0m"
)

// segment is a piece of the line with its colour.
type segment struct{ text, color string }

// render returns the line for the snapshot, cut to the width, or "" when
// the terminal is too narrow for anything useful.
func (l *Line) render() string {
	width := 80
	if l.opts.Width != nil {
		if w := l.opts.Width(); w > 0 {
			width = w
		}
	}
	room := width - 1 // never the last column: some terminals wrap there
	if room < 20 {
		return ""
	}
	s := l.snap
	var segs []segment
	add := func(text, color string) { segs = append(segs, segment{text, color}) }
	done := s.Passed + s.Failed + s.Skipped + s.Hung
	if s.Total > 0 {
		add(fmt.Sprintf("[%d/%d] ", done, s.Total), "")
	}
	add(fmt.Sprintf("%d passed", s.Passed), green)
	if s.Failed > 0 {
		add(", ", "")
		add(fmt.Sprintf("%d failed", s.Failed), red)
	}
	if s.Skipped > 0 {
		add(", ", "")
		add(fmt.Sprintf("%d skipped", s.Skipped), yellow)
	}
	if s.Hung > 0 {
		add(", ", "")
		add(fmt.Sprintf("%d hung", s.Hung), magenta)
	}
	add(fmt.Sprintf(" | %d running", s.Running), "")
	if s.ETA > 0 {
		add(" | ETA "+short(s.ETA), "")
	}
	for i, t := range s.Longest {
		sep := " | "
		if i > 0 {
			sep = ", "
		}
		add(sep+clean(t.Test)+" "+short(t.Running), "")
		if t.Quiet >= time.Second && t.Quiet*2 >= t.Running {
			add(" (quiet "+short(t.Quiet)+")", yellow)
		}
	}
	var b strings.Builder
	used := 0
	for _, sg := range segs {
		n := utf8.RuneCountInString(sg.text)
		text := sg.text
		cut := false
		if used+n > room {
			text = string([]rune(text)[:max(room-used-1, 0)]) + "…"
			cut = true
		}
		used += utf8.RuneCountInString(text)
		if sg.color != "" && !l.opts.NoColor {
			b.WriteString(sg.color + text + reset)
		} else {
			b.WriteString(text)
		}
		if cut {
			break
		}
	}
	return b.String()
}

// clean makes a test name safe for the terminal: control characters (an
// ESC could move the cursor) become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

// short prints a duration for the line: 850ms, 12s, 3m05s, 1h02m.
func short(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
