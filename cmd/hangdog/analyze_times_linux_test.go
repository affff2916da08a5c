package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

// streamTimes returns the first and last Time of a recorded stream's
// events (all of them, or only output events).
func streamTimes(t *testing.T, stream string, outputOnly bool) (first, last time.Time) {
	t.Helper()
	b, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct {
			Time   time.Time
			Action string
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Time.IsZero() || outputOnly && e.Action != "output" {
			continue
		}
		if first.IsZero() || e.Time.Before(first) {
			first = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
	}
	return first, last
}

// rewriteStream writes a variant of a recorded stream made by f from each
// event line, one line or none per event.
func rewriteStream(t *testing.T, stream, name string, f func(line string, e map[string]any) string) string {
	t.Helper()
	b, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		out.WriteString(f(l, e))
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// lastTick is the label of the timeline axis's last mark, as a duration.
func lastTick(t *testing.T, page string) time.Duration {
	t.Helper()
	m := regexp.MustCompile(`<div class="tick" style="left: [\d.]+%"><span>([^<]+)</span>`).FindAllStringSubmatch(page, -1)
	if len(m) == 0 {
		t.Fatalf("no axis in the page")
	}
	d, err := time.ParseDuration(m[len(m)-1][1])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAnalyzeTimes: the report and the HTML page of an analysed input
// describe the run in it, in its own times: started and duration_seconds
// from the events' Time fields, or from the timestamps of a CI log's lines;
// where the input has no times they are absent and the page says so. The
// time of the analysis is analyzed_at, apart. (They used to be the
// analysis's own: a 4 s run recorded days ago was drawn on an axis of
// days, every bar squeezed at 0 s.)
func TestAnalyzeTimes(t *testing.T) {
	t.Parallel()
	for _, rel := range []string{"go1.20", "go1.26"} {
		for _, fixture := range []string{"parallel", "multipkg", "chanrecv"} {
			stream := streamFile(t, rel, fixture)
			t.Run(rel+"/"+fixture, func(t *testing.T) {
				t.Parallel()
				before := time.Now()

				// The stream's events.
				html := filepath.Join(t.TempDir(), "r.html")
				r := runHangdog(t, t.TempDir(), "analyze", "--html", html, stream)
				first, last := streamTimes(t, stream, false)
				rep := r.report
				if rep == nil {
					t.Fatalf("no report (exit %d)", r.code)
				}
				if rep.Times != report.TimesEvents || !rep.Started.Equal(first) || rep.DurationSeconds != last.Sub(first).Seconds() {
					t.Errorf("events: times %q, started %v, duration %v; want events, %v, %v", rep.Times, rep.Started, rep.DurationSeconds, first, last.Sub(first).Seconds())
				}
				if rep.AnalyzedAt.Before(before) {
					t.Errorf("analyzed_at %v is before the analysis started (%v)", rep.AnalyzedAt, before)
				}
				page, err := os.ReadFile(html)
				if err != nil {
					t.Fatal(err)
				}
				took := last.Sub(first)
				if want := "took " + took.Round(10*time.Millisecond).String(); !strings.Contains(string(page), want) {
					t.Errorf("the page does not say %q", want)
				}
				if !strings.Contains(string(page), "started "+first.UTC().Format("2006-01-02 15:04:05 UTC")) {
					t.Errorf("the page does not say the stream's start")
				}
				// The axis ends at the stream's last event: its last mark
				// is within one step (at most half the span) of the end.
				if tick := lastTick(t, string(page)); tick > took || tick < took/2 {
					t.Errorf("the axis ends at %v, the stream lasted %v", tick, took)
				}

				// A CI log of the same run, plain text with each line's
				// event time before it.
				var firstLine, lastLine time.Time
				ci := rewriteStream(t, stream, "ci.log", func(_ string, e map[string]any) string {
					out, _ := e["Output"].(string)
					if e["Action"] != "output" || out == "" {
						return ""
					}
					ts, _ := time.Parse(time.RFC3339Nano, e["Time"].(string))
					ts = ts.Truncate(100 * time.Nanosecond) // 7 digits, as GitHub prints
					if firstLine.IsZero() {
						firstLine = ts
					}
					lastLine = ts
					var b strings.Builder
					for _, l := range strings.SplitAfter(out, "\n") {
						if l != "" {
							b.WriteString(ts.UTC().Format("2006-01-02T15:04:05.0000000Z") + " " + l)
						}
					}
					return b.String()
				})
				r = runHangdog(t, t.TempDir(), "analyze", ci)
				if rep := r.report; rep == nil || rep.Times != report.TimesLog || !rep.Started.Equal(firstLine) || rep.DurationSeconds != lastLine.Sub(firstLine).Seconds() {
					t.Errorf("CI log: report %+v; want times log, started %v, duration %v", rep, firstLine, lastLine.Sub(firstLine).Seconds())
				}

				// The stream without its times (go tool test2json without -t).
				html = filepath.Join(t.TempDir(), "r.html")
				untimed := rewriteStream(t, stream, "untimed.json", func(_ string, e map[string]any) string {
					delete(e, "Time")
					b, _ := json.Marshal(e)
					return string(b) + "\n"
				})
				r = runHangdog(t, t.TempDir(), "analyze", "--html", html, untimed)
				var raw map[string]any
				if err := json.Unmarshal(r.raw, &raw); err != nil {
					t.Fatal(err)
				}
				_, hasStart := raw["started"]
				_, hasDur := raw["duration_seconds"]
				if raw["times"] != "none" || hasStart || hasDur || raw["analyzed_at"] == nil {
					t.Errorf("no times: times %v, started %v, duration %v, analyzed_at %v; want none, absent, absent, set", raw["times"], raw["started"], raw["duration_seconds"], raw["analyzed_at"])
				}
				page, err = os.ReadFile(html)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(page), `<span id="no-times">no times in the log</span>`) || strings.Contains(string(page), "took ") || strings.Contains(string(page), `class="bar `) {
					t.Errorf("the page of a stream without times does not say so, or draws bars")
				}
				if !strings.Contains(r.stderr, "packages (no times in the log)") {
					t.Errorf("the summary line does not say there are no times:\n%s", r.stderr)
				}
			})
		}
	}
}
