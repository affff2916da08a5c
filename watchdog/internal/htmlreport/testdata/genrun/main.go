// Command genrun builds the report.Run fixture that the tests of the
// report writers (junit, ghactions, htmlreport) read, from real recorded
// `go test -json` streams, so that no test name, output line or stack in the
// fixture is typed by hand.
//
// Streams: the go1.26 recordings of testdata/streams (hanging fixtures run
// with -timeout 4s, so each ends in the testing package's own dump), and
// failskip.json (a small module with a failing test, a failing subtest, a
// skip, a build failure and a TestMain that exits 1; recorded with
// `go test -json -count=1 ./...`). The streams are shifted in time so that
// they overlap as the packages of one `go test ./...` run do on 2 cores.
//
// The hangs are worked out here with a deliberately small dump reader, not
// with the engine's diagnosis: the fixture must not depend on the code it
// helps to test. Paths are made relative to the fixture directory.
//
//	cd watchdog/internal/htmlreport && go run ./testdata/genrun
//
// writes testdata/run.json of junit, ghactions and htmlreport.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/report"
)

type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

const hangRoot = "/work/main/testdata/hang/" // where the streams were recorded

func main() {
	streams := []struct {
		file  string
		shift float64 // seconds after the run's start
		root  string  // fixture directory, for relative paths
	}{
		{"genrun/failskip.json", 0, "/tmp/failskip/"},
		{"../../../../testdata/streams/go1.26/multipkg.json", 0.15, hangRoot + "multipkg/"},
		{"../../../../testdata/streams/go1.26/mutexcycle.json", 1.2, hangRoot + "mutexcycle/"},
		{"../../../../testdata/streams/go1.26/parallel.json", 4.3, hangRoot + "parallel/"},
		{"../../../../testdata/streams/go1.26/wgsubtest.json", 5.4, hangRoot + "wgsubtest/"},
		{"../../../../testdata/streams/go1.26/cleanup.json", 8.6, hangRoot + "cleanup/"},
		{"../../../../testdata/streams/go1.26/pipeholder.json", 9.8, hangRoot + "pipeholder/"},
	}
	start := time.Date(2026, 11, 28, 0, 53, 0, 0, time.UTC)
	run := &report.Run{Report: &report.Report{
		Version: report.Version, Tool: "hangdog", Command: []string{"go", "test", "-json", "./..."},
		Dir: "/home/ci/src/shop", Started: start, ArtifactsDir: "/tmp/hangdog-4242",
		Hangs: []*report.Hang{},
	}}
	for _, s := range streams {
		evs := read(s.file)
		d := start.Add(time.Duration(s.shift * float64(time.Second))).Sub(evs[0].Time)
		for i := range evs {
			evs[i].Time = evs[i].Time.Add(d)
		}
		add(run, evs, s.root)
	}
	sort.SliceStable(run.Tests, func(i, j int) bool { return run.Tests[i].Start.Before(run.Tests[j].Start) })
	sort.SliceStable(run.Packages, func(i, j int) bool { return run.Packages[i].Start.Before(run.Packages[j].Start) })
	var end time.Time
	for _, p := range run.Packages {
		if p.End.After(end) {
			end = p.End
		}
	}
	rp := run.Report
	rp.DurationSeconds = round(end.Sub(start).Seconds())
	rp.Totals.Packages = len(run.Packages)
	for _, t := range run.Tests {
		switch t.Result {
		case "pass":
			rp.Totals.Passed++
		case "fail":
			rp.Totals.Failed++
		case "skip":
			rp.Totals.Skipped++
		case "hung":
			rp.Totals.Hung++
		}
	}
	for _, p := range run.Packages {
		switch p.Result {
		case "build-failed":
			rp.BuildFailures = append(rp.BuildFailures, p.Package)
			rp.FailedPackages = append(rp.FailedPackages, p.Package)
		case "fail", "hung":
			rp.FailedPackages = append(rp.FailedPackages, p.Package)
		}
	}
	rp.ExitCode, rp.Reason = 3, "hung"
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	b = append(b, '\n')
	for _, dir := range []string{".", "../junit", "../ghactions"} {
		if err := os.WriteFile(filepath.Join(dir, "testdata", "run.json"), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func read(file string) []event {
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Time.IsZero() {
			continue // build-output events carry no time; the package event has it
		}
		evs = append(evs, e)
	}
	return evs
}

type testState struct {
	idx    int
	out    strings.Builder
	closed bool
}

func add(run *report.Run, evs []event, root string) {
	pkgs := map[string]int{}
	tests := map[string]*testState{}
	pkgOut := map[string]*strings.Builder{}
	for _, e := range evs {
		key := e.Package + "\x00" + e.Test
		switch {
		case e.Test == "" && e.Action == "start":
			pkgs[e.Package] = len(run.Packages)
			run.Packages = append(run.Packages, report.PackageRun{Package: e.Package, Start: e.Time})
			pkgOut[e.Package] = &strings.Builder{}
		case e.Test == "" && e.Action == "output":
			pkgOut[e.Package].WriteString(e.Output)
		case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			p := &run.Packages[pkgs[e.Package]]
			p.Result, p.End, p.ElapsedSeconds = e.Action, e.Time, e.Elapsed
			if strings.Contains(pkgOut[e.Package].String(), "[build failed]") {
				p.Result = "build-failed"
				p.Output = "# " + e.Package + "\n" + buildErr
			} else if e.Action != "pass" {
				p.Output = pkgOut[e.Package].String()
			}
		case e.Action == "run":
			tests[key] = &testState{idx: len(run.Tests)}
			run.Tests = append(run.Tests, report.TestRun{Package: e.Package, Test: e.Test, Start: e.Time})
		case e.Action == "output":
			tests[key].out.WriteString(e.Output)
		case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
			st := tests[key]
			st.closed = true
			t := &run.Tests[st.idx]
			t.Result, t.ElapsedSeconds = e.Action, e.Elapsed
			if e.Action == "fail" {
				t.Output = st.out.String()
			}
		}
	}
	// The dump, wherever test2json put it, and the tests it names.
	dump, named := map[string]string{}, map[string]bool{}
	for _, st := range tests {
		t := run.Tests[st.idx]
		out := st.out.String()
		if i := strings.Index(out, "panic: test timed out"); i >= 0 {
			dump[t.Package] = out[i:]
			for _, m := range runningRE.FindAllStringSubmatch(out[i:], -1) {
				named[t.Package+"\x00"+m[1]] = true
			}
		}
	}
	// Tests that never ended: the innermost one the dump names is hung, the
	// others were stopped with it.
	keys := make([]string, 0, len(tests))
	for k := range tests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		st := tests[key]
		if st.closed {
			continue
		}
		t := &run.Tests[st.idx]
		p := run.Packages[pkgs[t.Package]]
		t.ElapsedSeconds = round(p.End.Sub(t.Start).Seconds())
		t.Output = st.out.String()
		if !named[key] || hasChild(named, key) {
			t.Result = "interrupted"
			continue
		}
		if !strings.Contains(t.Output, "panic: test timed out") {
			t.Output += dump[t.Package]
		}
		t.Result = "hung"
		run.Packages[pkgs[t.Package]].Result = "hung"
		h := diagnose(t, root)
		for k2, st2 := range tests {
			t2 := run.Tests[st2.idx]
			if !st2.closed && k2 != key && t2.Package == t.Package {
				h.AlsoStopped = append(h.AlsoStopped, t2.Test)
			}
		}
		sort.Strings(h.AlsoStopped)
		run.Report.Hangs = append(run.Report.Hangs, h)
	}
	for _, p := range run.Packages {
		if p.Result == "fail" && strings.Contains(p.Output, "Test I/O incomplete") {
			run.Packages[pkgs[p.Package]].Result = "hung"
			run.Report.Hangs = append(run.Report.Hangs, &report.Hang{
				Package: p.Package, Phase: report.PhaseExit, StalledForSeconds: 5, ThresholdSeconds: 5,
				Summary:    "the test binary exited but sleep (pid 31337, started by TestLaunch) still holds its output pipe",
				State:      "pipe held",
				Location:   "pipeholder/agent.go:17",
				Capture:    "none",
				PID:        31330,
				Goroutines: []report.GoroutineGroup{},
				Processes: []report.ProcessInfo{
					{PID: 31337, PPID: 1, State: "S", Wchan: "hrtimer_nanosleep", Cmdline: []string{"sleep", "3600"}, Role: "pipe-holder", Killed: true},
				},
			})
		}
	}
}

func hasChild(named map[string]bool, key string) bool {
	for k := range named {
		if strings.HasPrefix(k, key+"/") {
			return true
		}
	}
	return false
}

// buildErr is the build-output event of failskip.json, which carries no
// Package and no Time.
const buildErr = "broken/broken.go:3:23: cannot use \"not an int\" (untyped string constant) as int value in return statement\n"

var (
	headerRE  = regexp.MustCompile(`^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:$`)
	fileRE    = regexp.MustCompile(`^\t(\S+):(\d+)(?: \+0x[0-9a-f]+)?$`)
	argsRE    = regexp.MustCompile(`\([^()]*\)$`)
	runningRE = regexp.MustCompile(`(?m)^\t\t(\S+) \(\d+s\)$`)
)

type goroutine struct {
	id        int64
	state     string
	minutes   int
	funcs     []string
	files     []string
	createdBy string
}

// diagnose reads the dump in t.Output and builds a hang as the engine
// would, with less care.
func diagnose(t *report.TestRun, root string) *report.Hang {
	var gs []*goroutine
	var g *goroutine
	inCreated := false
	for _, line := range strings.Split(t.Output, "\n") {
		if m := headerRE.FindStringSubmatch(line); m != nil {
			g = &goroutine{state: m[2]}
			fmt.Sscan(m[1], &g.id)
			if i := strings.Index(g.state, ", "); i >= 0 {
				fmt.Sscanf(g.state[i+2:], "%d minutes", &g.minutes)
				g.state = g.state[:i]
			}
			gs = append(gs, g)
			inCreated = false
			continue
		}
		if g == nil || line == "" {
			continue
		}
		if m := fileRE.FindStringSubmatch(line); m != nil {
			loc := rel(m[1], root) + ":" + m[2]
			if inCreated {
				g.createdBy += " at " + loc
			} else {
				g.files = append(g.files, loc)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "created by "); ok {
			g.createdBy, inCreated = rest, true
			continue
		}
		g.funcs = append(g.funcs, argsRE.ReplaceAllString(line, ""))
	}
	h := &report.Hang{
		Package: t.Package, Test: t.Test, Phase: report.PhaseTest,
		StalledForSeconds: 4, ThresholdSeconds: 4, Capture: "timeout", PID: 31000 + len(t.Test),
		Artifacts: map[string]string{
			"dump":   "/tmp/hangdog-4242/" + strings.ReplaceAll(t.Package, "/", "_") + "-1.goroutines.txt",
			"report": "/tmp/hangdog-4242/" + strings.ReplaceAll(t.Package, "/", "_") + "-1.hang.json",
		},
		Goroutines: []report.GoroutineGroup{},
	}
	groups := map[string]int{}
	for _, g := range gs {
		user := -1
		for i, f := range g.files {
			if !strings.HasPrefix(f, "/") && !strings.HasPrefix(f, "_testmain") {
				user = i
				break
			}
		}
		if user < 0 {
			continue // the runtime's and the testing package's own goroutines
		}
		role := "helper"
		top, _, sub := strings.Cut(t.Test, "/")
		for i, f := range g.funcs {
			if f != "testing.tRunner" || i == 0 {
				continue
			}
			caller := g.funcs[i-1]
			if !sub && strings.HasSuffix(caller, "."+top) || sub && strings.Contains(caller, "."+top+".func") {
				role = "test"
			}
			// A t.Cleanup function runs on the test's goroutine too.
			if strings.Contains(strings.Join(g.funcs[:i], " "), "runCleanup") && strings.Contains(strings.Join(g.funcs, " "), "."+top) {
				role = "test"
			}
		}
		stack := make([]string, len(g.funcs))
		for i := range g.funcs {
			stack[i] = g.funcs[i] + " " + g.files[i]
		}
		key := g.state + "\x00" + strings.Join(stack, "\x00")
		if i, ok := groups[key]; ok {
			gg := &h.Goroutines[i]
			gg.IDs = append(gg.IDs, g.id)
			gg.Count++
			continue
		}
		groups[key] = len(h.Goroutines)
		h.Goroutines = append(h.Goroutines, report.GoroutineGroup{
			IDs: []int64{g.id}, Count: 1, Role: role, State: g.state, WaitMinutes: g.minutes,
			Location: g.files[user], Function: g.funcs[user], CreatedBy: g.createdBy, Stack: stack,
		})
		if role == "test" {
			h.State, h.Location = g.state, g.files[user]
			if strings.Contains(strings.Join(g.funcs, " "), "runCleanup") {
				h.Phase = report.PhaseCleanup
			}
		}
	}
	sort.SliceStable(h.Goroutines, func(i, j int) bool {
		return h.Goroutines[i].Role == "test" && h.Goroutines[j].Role != "test"
	})
	var b bytes.Buffer
	name := t.Test
	var test *report.GoroutineGroup
	var others []report.GoroutineGroup
	for i := range h.Goroutines {
		if h.Goroutines[i].Role == "test" && test == nil {
			test = &h.Goroutines[i]
		} else {
			others = append(others, h.Goroutines[i])
		}
	}
	fmt.Fprintf(&b, "%s: ", name)
	if len(others) > 0 {
		o := others[0]
		n := 0
		for _, x := range others {
			n += x.Count
		}
		fmt.Fprintf(&b, "%d goroutine(s) wait on %s at %s while ", n, o.State, o.Location)
	}
	if test != nil {
		fmt.Fprintf(&b, "the test waits on %s at %s", test.State, test.Location)
		if h.Phase == report.PhaseCleanup {
			b.WriteString(" in a t.Cleanup function")
		}
	}
	h.Summary = b.String()
	return h
}

func rel(file, root string) string {
	if r, ok := strings.CutPrefix(file, root); ok {
		// Relative to the report's Dir, as if the fixtures were packages
		// of one module.
		return filepath.Base(root) + "/" + r
	}
	return file
}
