package htmlreport

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

// chromium finds a headless-capable Chromium, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found; install it with: apt-get install -y chromium")
	return ""
}

// runChromium runs headless Chromium on the page with the given extra
// flags and returns its stdout. A private profile directory lets tests run
// in parallel; the virtual time budget lets the page's script finish
// before the DOM is dumped.
func runChromium(t *testing.T, bin, page string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=3000",
	}, flags...)
	args = append(args, "file://"+filepath.ToSlash(page))
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", flags, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func writePage(t *testing.T, run *report.Run) string {
	t.Helper()
	return writePageWith(t, run, Options{})
}

func writePageWith(t *testing.T, run *report.Run, o Options) string {
	t.Helper()
	page := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteWith(f, run, o); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return page
}

func count(dom []byte, re string) int {
	return len(regexp.MustCompile(re).FindAll(dom, -1))
}

// TestChromium renders the fixture run in headless Chromium, checks the
// structure after the script ran, and saves screenshots: into
// $HANGDOG_SCREENSHOT_DIR if set (a CI artifact), else a temporary
// directory; with -update also testdata/screenshot.png for the README.
func TestChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	run := loadRun(t)
	page := writePage(t, run)

	dom := runChromium(t, bin, page, "--dump-dom")
	if !bytes.Contains(dom, []byte(`data-js="ready"`)) {
		t.Errorf("the page's script did not run")
	}
	if n := count(dom, `<div class="lane" data-package=`); n != len(run.Packages) {
		t.Errorf("%d lanes, want one per package (%d)", n, len(run.Packages))
	}
	packageHangs := 0
	for _, h := range run.Report.Hangs {
		if h.Test == "" {
			packageHangs++
		}
	}
	if n := count(dom, `<a class="bar `); n != len(run.Tests)+packageHangs {
		t.Errorf("%d bars, want %d tests + %d package stalls", n, len(run.Tests), packageHangs)
	}
	if n := count(dom, `<a class="bar hung"[^>]* href="#hang-\d+"`); n != run.Report.Totals.Hung+packageHangs {
		t.Errorf("%d hung bars linking to their card, want %d", n, run.Report.Totals.Hung+packageHangs)
	}
	if n := count(dom, `<article class="card" id="hang-\d+">`); n != len(run.Report.Hangs) {
		t.Errorf("%d hang cards, want %d", n, len(run.Report.Hangs))
	}
	groups := 0
	for _, h := range run.Report.Hangs {
		groups += len(h.Goroutines)
	}
	if n := count(dom, `<details class="group"`); n != groups {
		t.Errorf("%d goroutine groups, want %d", n, groups)
	}
	if n := count(dom, `<tr data-test=`); n != run.Report.Totals.Failed {
		t.Errorf("%d failed-test rows, want %d", n, run.Report.Totals.Failed)
	}
	if !bytes.Contains(dom, []byte(`href="file:///tmp/hangdog-4242/example.com_mutexcycle-1.goroutines.txt"`)) {
		t.Errorf("no link to the dump artifact")
	}

	dir := os.Getenv("HANGDOG_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shots := map[string]string{filepath.Join(dir, "htmlreport-full.png"): "1400,3800"}
	if *update {
		shots[filepath.Join("testdata", "screenshot.png")] = "1200,1000"
	}
	for shot, size := range shots {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		runChromium(t, bin, page, "--window-size="+size, "--screenshot="+abs)
		b, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", abs)
		}
		t.Logf("screenshot: %s (%d bytes)", abs, len(b))
	}
}

// TestChromiumCollapsed renders the fixture run as a big run's page is
// drawn (lanes closed, the bars of passed and skipped tests in JSON) and
// checks its structure before the script runs, after it ran, and after
// it opened every lane.
func TestChromiumCollapsed(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	run := loadRun(t)
	page := writePageWith(t, run, Options{InlineBars: 1})
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	packageHangs, lazy := 0, 0
	for _, h := range run.Report.Hangs {
		if h.Test == "" {
			packageHangs++
		}
	}
	for _, tr := range run.Tests {
		if tr.Result == "pass" || tr.Result == "skip" {
			lazy++
		}
	}
	if lazy == 0 || lazy == len(run.Tests) {
		t.Fatalf("the fixture has %d passed or skipped tests of %d: nothing to check", lazy, len(run.Tests))
	}
	drawn := len(run.Tests) - lazy + packageHangs
	for _, tc := range []struct {
		name string
		dom  []byte
		bars int
	}{
		{"html", raw, drawn},
		{"script ran", runChromium(t, bin, page, "--dump-dom"), drawn},
	} {
		if n := count(tc.dom, `<div class="lane closed" data-package=`); n != len(run.Packages) {
			t.Errorf("%s: %d closed lanes, want %d", tc.name, n, len(run.Packages))
		}
		if n := count(tc.dom, `<a class="bar `); n != tc.bars {
			t.Errorf("%s: %d bars, want the %d that did not pass or skip", tc.name, n, tc.bars)
		}
		if n := count(tc.dom, `<a class="bar hung"[^>]* href="#hang-\d+"`); n != run.Report.Totals.Hung+packageHangs {
			t.Errorf("%s: %d hung bars linking to their card, want %d", tc.name, n, run.Report.Totals.Hung+packageHangs)
		}
		if n := count(tc.dom, `<svg class="density"`); n == 0 {
			t.Errorf("%s: no density curve", tc.name)
		}
	}
	open := filepath.ToSlash(page) + "#open-all"
	dom := runChromium(t, bin, open, "--dump-dom")
	if !bytes.Contains(dom, []byte(`data-js="ready"`)) {
		t.Fatalf("the page's script did not run")
	}
	if n := count(dom, `<a class="bar `); n != len(run.Tests)+packageHangs {
		t.Errorf("all lanes open: %d bars, want %d tests + %d package stalls", n, len(run.Tests), packageHangs)
	}
	if n := count(dom, `class="lane closed"`); n != 0 {
		t.Errorf("%d lanes still closed after #open-all", n)
	}
	if n := count(dom, `<div class="lane open" data-package=`); n != len(run.Packages) {
		t.Errorf("%d open lanes, want %d", n, len(run.Packages))
	}
}

// TestChromiumHostile renders a run whose names and output try to inject
// markup, and checks that the browser sees only text.
func TestChromiumHostile(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	evil := `<img src=x onerror="document.title='pwned'"></pre></details><script>document.title='pwned'</script>`
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &report.Run{
		Report: &report.Report{
			Reason: `hung" onclick="x`, Started: start, DurationSeconds: 2,
			Totals: report.Totals{Failed: 1, Hung: 1, Packages: 1},
			Hangs: []*report.Hang{{
				Package: "p" + evil, Test: "T" + evil, Summary: evil, Location: evil, State: evil,
				Artifacts:  map[string]string{"dump": `/tmp/a"><script>x</script>`, "javascript:alert(1)": "javascript:alert(1)"},
				Goroutines: []report.GoroutineGroup{{IDs: []int64{1}, Count: 1, Role: "test", State: evil, Location: evil, Stack: []string{evil}}},
				Processes:  []report.ProcessInfo{{PID: 1, Cmdline: []string{evil}}},
			}},
		},
		Tests: []report.TestRun{
			{Package: "p" + evil, Test: "T" + evil, Result: "hung", Start: start, ElapsedSeconds: 1, Output: evil},
			{Package: "p" + evil, Test: "F" + evil, Result: "fail", Start: start, ElapsedSeconds: 1, Output: evil},
		},
		Packages: []report.PackageRun{{Package: "p" + evil, Result: "hung", Start: start, End: start.Add(2 * time.Second), Output: evil}},
	}
	page := writePage(t, run)
	raw, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(raw), "<script") != 1 || strings.Contains(string(raw), "<img") {
		t.Errorf("markup from the run reached the page:\n%s", raw)
	}
	dom := runChromium(t, bin, page, "--dump-dom")
	if bytes.Contains(dom, []byte("<title>pwned")) || count(dom, `<script`) != 1 || bytes.Contains(dom, []byte("<img")) {
		t.Errorf("injected markup ran or was parsed:\n%s", dom)
	}
	if !bytes.Contains(dom, []byte(`data-js="ready"`)) {
		t.Errorf("the page's script did not run")
	}

	// Closed lanes: a passed test's name goes through the JSON and the
	// script's textContent.
	run.Tests = append(run.Tests, report.TestRun{Package: "p" + evil, Test: "P" + evil, Result: "pass", Start: start, ElapsedSeconds: 1})
	page = writePageWith(t, run, Options{InlineBars: 1})
	raw, err = os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(raw), "<script") != 2 || strings.Contains(string(raw), "<img") {
		t.Errorf("markup from the run reached the collapsed page:\n%s", raw)
	}
	dom = runChromium(t, bin, filepath.ToSlash(page)+"#open-all", "--dump-dom")
	if bytes.Contains(dom, []byte("<title>pwned")) || count(dom, `<script`) != 2 || bytes.Contains(dom, []byte("<img")) {
		t.Errorf("injected markup ran or was parsed in an opened lane:\n%s", dom)
	}
	if count(dom, `<a class="bar pass"`) != 1 {
		t.Errorf("the passed test was not drawn when its lane opened")
	}
}
