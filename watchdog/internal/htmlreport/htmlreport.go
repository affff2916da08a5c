// Package htmlreport writes a hangdog run as one self-contained HTML page
// for people: totals and why the run ended, a timeline with one lane per
// package binary and a bar per test, a card per hang with its goroutines,
// processes and artifacts, and the failed tests with their output. The
// hangdog command calls Write at the end of a run when it is asked for an
// HTML report.
//
// The page needs no network: CSS and the small script are inline, the
// timeline is laid out here (bars are positioned elements with a title for
// hovering), stacks are <details>. A run of up to Options.InlineBars tests
// needs no JavaScript either; the script only adds a filter box. A bigger
// run (88,000 tests make 18 MB of bars that a browser takes 17 s to draw)
// gets collapsed lanes: each shows its package's span, a density curve of
// the tests that passed or were skipped, and every test that failed, hung
// or was interrupted; the other bars are kept as compact JSON in the page
// and drawn by the script when a lane is opened. Everything from the run
// is untrusted (test names and output come from the code under test) and
// goes through html/template, or through textContent in the script.
package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

//go:embed page.html.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":     durSeconds,
	"ids":     ids,
	"join":    strings.Join,
	"fileURL": fileURL,
}).Parse(pageText))

// Options tune the page. The zero value gives the defaults.
type Options struct {
	// InlineBars is the most tests whose bars are all written as HTML
	// (0 = DefaultInlineBars). Past it, lanes are collapsed and the bars
	// of passed and skipped tests are drawn when a lane is opened.
	InlineBars int
}

// DefaultInlineBars: a page of 2,000 bars is about 0.5 MB and draws in
// well under a second in headless Chromium (bench/html.sh); 10,000 take a
// second, 88,000 twenty.
const DefaultInlineBars = 2000

// Write writes run as an HTML page to w with the default options. It
// returns the first error executing the template or writing to w.
func Write(w io.Writer, run *report.Run) error { return WriteWith(w, run, Options{}) }

// WriteWith is Write with options.
func WriteWith(w io.Writer, run *report.Run, o Options) error {
	if o.InlineBars <= 0 {
		o.InlineBars = DefaultInlineBars
	}
	if err := page.Execute(w, build(run, o)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// view is what the template shows.
type view struct {
	R         *report.Report
	Started   string
	Duration  string
	NoTimes   bool   // the analysed input had no times: no duration, no timeline
	Analyzed  string // when hangdog analyze read the input
	Timeline  timeline
	Hangs     []hangView
	Failed    []failedTest
	PkgFails  []report.PackageRun
	HasOutput bool
}

type failedTest struct {
	report.TestRun
	Message string
}

// failMessage is the test's error lines where the stream marks them (Go
// 1.27+ OutputType; "" when it marked none), else the last line the test
// logged before its "--- FAIL" ("file_test.go:N: text"; t.Fatal's is the
// last), or "".
func failMessage(t *report.TestRun) string {
	if t.OutputTyped {
		return t.ErrorText()
	}
	msg := ""
	for line := range strings.Lines(t.Output) {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "--- FAIL") {
			break
		}
		if i := strings.Index(l, ".go:"); i > 0 && strings.HasPrefix(line, "    ") && !strings.ContainsAny(l[:i], " \t") {
			msg = l
		}
	}
	return msg
}

type hangView struct {
	*report.Hang
	ID         string
	Name       string
	Goroutines int
}

func build(run *report.Run, o Options) *view {
	rp := run.Report
	if rp == nil {
		rp = &report.Report{}
	}
	v := &view{R: rp, Duration: durSeconds(rp.DurationSeconds), NoTimes: rp.Times == report.TimesNone}
	if !rp.Started.IsZero() {
		v.Started = rp.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if !rp.AnalyzedAt.IsZero() {
		v.Analyzed = rp.AnalyzedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if !v.NoTimes {
		v.Timeline = layout(run)
		if v.Timeline.Bars > o.InlineBars {
			v.Timeline.collapse()
		}
	}
	for i, h := range rp.Hangs {
		hv := hangView{Hang: h, ID: hangID(i), Name: h.Test}
		if hv.Name == "" {
			hv.Name = "(package, phase " + string(h.Phase) + ")"
		}
		for _, g := range h.Goroutines {
			hv.Goroutines += g.Count
		}
		v.Hangs = append(v.Hangs, hv)
	}
	for _, t := range run.Tests {
		if t.Result == "fail" {
			v.Failed = append(v.Failed, failedTest{TestRun: t, Message: failMessage(&t)})
		}
	}
	for _, p := range run.Packages {
		if p.Output != "" && p.Result != "pass" && p.Result != "skip" {
			v.PkgFails = append(v.PkgFails, p)
		}
	}
	return v
}

// timeline is the run laid out in time: percentages of the whole span.
type timeline struct {
	Span  float64 // seconds
	Ticks []tick
	Lanes []lane
	Bars  int
	// Collapsed: the lanes are drawn closed, with Data holding the bars
	// left out of the HTML (see lanes.go).
	Collapsed bool
	Data      *laneData
}

type tick struct {
	Left  float64
	Label string
}

type lane struct {
	Package string
	Result  string
	Elapsed string
	Left    float64 // the package binary's span
	Width   float64
	Rows    int
	Height  int // pixels
	Bars    []bar
	// Collapsed lanes: Tests counts every bar of the lane, Lazy those
	// left to the script; Density is the SVG path of their density;
	// ClosedHeight the height of the closed lane.
	Tests, Lazy  int
	Density      string
	ClosedHeight int
}

type bar struct {
	Name, Result, Title string
	Left, Width, Top    float64 // Top in pixels
	Quiet               float64 // hung: the quiet part, a percentage of the bar from its right end
	HangID              string
	ClosedTop           float64 // in a closed lane
	startMs, durMs      int64   // since the timeline's start
}

// Row geometry of a lane, in pixels.
const (
	rowHeight = 16
	rowGap    = 2
)

func layout(run *report.Run) timeline {
	var t0, t1 time.Time
	see := func(a, b time.Time) {
		if !a.IsZero() && (t0.IsZero() || a.Before(t0)) {
			t0 = a
		}
		if b.After(t1) {
			t1 = b
		}
	}
	if rp := run.Report; rp != nil && !rp.Started.IsZero() {
		see(rp.Started, rp.Started.Add(secs(rp.DurationSeconds)))
	}
	ends := map[string]time.Time{}
	for _, p := range run.Packages {
		see(p.Start, p.End)
		ends[p.Package] = p.End
	}
	for _, t := range run.Tests {
		see(t.Start, t.Start.Add(secs(t.ElapsedSeconds)))
	}
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	pct := func(t time.Time) float64 { return round2(100 * t.Sub(t0).Seconds() / span) }

	hangs := map[string]int{} // package, test → index in Hangs
	if rp := run.Report; rp != nil {
		for i, h := range rp.Hangs {
			hangs[h.Package+"\x00"+h.Test] = i
		}
	}
	var tl timeline
	tl.Span = span
	tl.Ticks = ticks(span)
	idx := map[string]int{}
	get := func(pkg string) *lane {
		i, ok := idx[pkg]
		if !ok {
			i = len(tl.Lanes)
			idx[pkg] = i
			tl.Lanes = append(tl.Lanes, lane{Package: pkg})
		}
		return &tl.Lanes[i]
	}
	for _, p := range run.Packages {
		l := get(p.Package)
		l.Result = p.Result
		l.Elapsed = durSeconds(p.ElapsedSeconds)
		l.Left = pct(p.Start)
		l.Width = math.Max(0, round2(pct(p.End)-l.Left))
	}
	// Pack each lane's bars into rows, first fit, in start order, so that
	// parallel tests and subtests (which overlap their parents) do not
	// cover each other.
	rowEnds := map[string][]float64{}
	for _, t := range run.Tests {
		l := get(t.Package)
		start := t.Start
		end := start.Add(secs(t.ElapsedSeconds))
		if e, ok := ends[t.Package]; ok && (t.Result == "hung" || t.Result == "interrupted") && e.After(end) {
			end = e // stopped with its binary
		}
		left, right := pct(start), pct(end)
		rows := rowEnds[t.Package]
		r := 0
		for r < len(rows) && rows[r] > left {
			r++
		}
		if r == len(rows) {
			rows = append(rows, 0)
		}
		// Bars of tests that ran one after the other share a row even
		// when their minimum drawn width makes them touch.
		rows[r] = right
		rowEnds[t.Package] = rows
		b := bar{
			Name: t.Test, Result: t.Result,
			Left: left, Width: round2(right - left), Top: float64(r * (rowHeight + rowGap)),
			startMs: start.Sub(t0).Milliseconds(), durMs: end.Sub(start).Milliseconds(),
		}
		b.Title = fmt.Sprintf("%s %s\n%s, %s, started at +%s", t.Package, t.Test, t.Result,
			durSeconds(end.Sub(start).Seconds()), durSeconds(start.Sub(t0).Seconds()))
		if i, ok := hangs[t.Package+"\x00"+t.Test]; ok && t.Result == "hung" {
			h := run.Report.Hangs[i]
			b.HangID = hangID(i)
			if w := end.Sub(start).Seconds(); w > 0 {
				b.Quiet = round2(100 * math.Min(1, h.StalledForSeconds/w))
			}
			b.Title += fmt.Sprintf("\nno progress for %s: %s", durSeconds(h.StalledForSeconds), h.Summary)
		}
		l.Bars = append(l.Bars, b)
		tl.Bars++
	}
	// A package that stalled outside any test gets a bar for the stall:
	// its quiet time, up to the end of the binary.
	if rp := run.Report; rp != nil {
		for i, h := range rp.Hangs {
			if h.Test != "" {
				continue
			}
			l := get(h.Package)
			end, ok := ends[h.Package]
			if !ok {
				continue
			}
			start := end.Add(-secs(h.StalledForSeconds))
			left, right := pct(start), pct(end)
			rows := rowEnds[h.Package]
			r := 0
			for r < len(rows) && rows[r] > left {
				r++
			}
			if r == len(rows) {
				rows = append(rows, 0)
			}
			rows[r] = right
			rowEnds[h.Package] = rows
			l.Bars = append(l.Bars, bar{
				Name: "TestMain (" + string(h.Phase) + ")", Result: "hung",
				Left: left, Width: round2(right - left), Top: float64(r * (rowHeight + rowGap)), Quiet: 100,
				HangID: hangID(i),
				Title: fmt.Sprintf("%s: package stalled in phase %s\nno progress for %s: %s", h.Package, h.Phase,
					durSeconds(h.StalledForSeconds), h.Summary),
			})
		}
	}
	for i := range tl.Lanes {
		l := &tl.Lanes[i]
		l.Rows = max(1, len(rowEnds[l.Package]))
		l.Height = l.Rows*(rowHeight+rowGap) + rowGap
	}
	return tl
}

// hangID is the HTML id of the card of run.Report.Hangs[i].
func hangID(i int) string { return fmt.Sprintf("hang-%d", i+1) }

// ticks returns axis marks at the largest round step (1, 2 or 5 × 10^k
// seconds) that gives at least 4 marks.
func ticks(span float64) []tick {
	base := math.Pow(10, math.Floor(math.Log10(span)))
	step := base / 10
	for _, c := range []float64{base / 5, base / 2, base, 2 * base, 5 * base} {
		if span/c >= 4 {
			step = c
		}
	}
	var out []tick
	for i := 0; float64(i)*step <= span+1e-9; i++ {
		s := float64(i) * step
		out = append(out, tick{Left: round2(100 * s / span), Label: durSeconds(s)})
	}
	return out
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// durSeconds prints seconds the way people read them: 4ms, 1.5s, 2m3s.
func durSeconds(s float64) string {
	d := secs(s)
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// fileURL turns an artifact path into a file: URL. html/template rejects
// that scheme in attributes (it cannot tell it is safe); it is safe here
// because the URL is built by net/url from a path, so nothing in the path
// can leave it.
func fileURL(p string) template.URL {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x on Windows
	}
	u := url.URL{Scheme: "file", Path: p}
	return template.URL(u.String())
}
