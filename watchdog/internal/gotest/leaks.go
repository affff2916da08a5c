package gotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/report"
)

// The leak check's files, which the agent's leak check (agent/leaks.go.tmpl)
// writes into the agent directory:
//
//	PID-leak-N.json  one test that left goroutines blocked past the grace
//	                 period: its goroutine profile records (debug=1 text,
//	                 labelled hangdog=RUN:TEST) and a dump of every goroutine
//	PID-leakend.json written after m.Run: what the check did, and the
//	                 goroutineleak profile where the runtime has one
var leakFileRE = regexp.MustCompile(`^([0-9]+)-(leak-[0-9]+|leakend)\.json$`)

// leakFile is PID-leak-N.json.
type leakFile struct {
	Package   string    `json:"package"`
	PID       int       `json:"pid"`
	Test      string    `json:"test"`
	Run       int       `json:"run"`
	Ended     time.Time `json:"ended"`
	Grace     string    `json:"grace"`
	GoVersion string    `json:"go_version"`
	Records   string    `json:"records"`
	Dump      string    `json:"dump"`
}

// leakEnd is PID-leakend.json.
type leakEnd struct {
	Package      string   `json:"package"`
	PID          int      `json:"pid"`
	GoVersion    string   `json:"go_version"`
	EndedTests   int      `json:"ended_tests"`
	Off          string   `json:"off"`
	Watched      bool     `json:"watched"`
	Unchecked    []string `json:"unchecked_tests"`
	GC           bool     `json:"gc"`
	Profile      string   `json:"profile"`
	ProfileError string   `json:"profile_error"`
	CheckSeconds float64  `json:"check_seconds"`
	EndWait      float64  `json:"end_wait_seconds"`
}

// Unchecked reasons of a LeakCheck.
const (
	UncheckedOwnTestMain = "the package has its own TestMain: its tests were not checked for leaks"
	UncheckedWatched     = "a stall was watched in this binary: the leak check stopped there (it would allocate, and the goroutineleak profile runs a GC)"
	UncheckedCut         = "the test binary ended before its leak check finished: tests that ended last may be unchecked"
)

// Leaks reads the leak files that the test binaries of package pkg wrote
// into the agent directory dir, removes them, and returns the leaks, in
// the order the tests ended, and what each binary's check did. Locations
// are relative to base when inside it. Call it once the package's binary
// has exited (its final test2json event): a binary writes its last file
// just before it exits. Files of other packages are left alone. A file
// that cannot be read or decoded is skipped and named in the error; the
// rest is still returned.
func Leaks(dir, pkg, base string) ([]*report.Leak, []report.LeakCheck, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("leaks: %w", err)
	}
	var errs []error
	var files []leakFile
	ends := map[int]*leakEnd{}
	pids := map[int]bool{}
	for _, e := range ents {
		m := leakFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("leaks: %w", err))
			continue
		}
		if m[2] == "leakend" {
			var end leakEnd
			if err := json.Unmarshal(data, &end); err != nil {
				errs = append(errs, fmt.Errorf("leaks: %s: %w", e.Name(), err))
				continue
			}
			if end.Package != pkg {
				continue
			}
			ends[end.PID] = &end
			pids[end.PID] = true
		} else {
			var f leakFile
			if err := json.Unmarshal(data, &f); err != nil {
				errs = append(errs, fmt.Errorf("leaks: %s: %w", e.Name(), err))
				continue
			}
			if f.Package != pkg {
				continue
			}
			files = append(files, f)
			pids[f.PID] = true
		}
		os.Remove(path)
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Ended.Before(files[j].Ended) })

	proven := map[int]map[string]bool{} // pid -> label + "\x00" + signature
	for pid, end := range ends {
		if end.GC && end.Profile != "" {
			proven[pid] = profileSignatures(end.Profile)
		}
	}
	var leaks []*report.Leak
	count := map[int]int{}
	for _, f := range files {
		groups, sigs := leakGroups(f, base)
		grace, _ := time.ParseDuration(f.Grace)
		label := strconv.Itoa(f.Run) + ":" + f.Test
		var yes, no []report.GoroutineGroup
		for i, g := range groups {
			if proven[f.PID][label+"\x00"+sigs[i]] {
				yes = append(yes, g)
			} else {
				no = append(no, g)
			}
		}
		for _, part := range []struct {
			proven bool
			gs     []report.GoroutineGroup
		}{{true, yes}, {false, no}} {
			if len(part.gs) == 0 {
				continue
			}
			leaks = append(leaks, &report.Leak{
				Package: pkg, Test: f.Test, Run: f.Run, Proven: part.proven, PID: f.PID,
				GraceSeconds: grace.Seconds(), Goroutines: part.gs,
			})
		}
		count[f.PID]++
	}
	var checks []report.LeakCheck
	var order []int
	for pid := range pids {
		order = append(order, pid)
	}
	sort.Ints(order)
	for _, pid := range order {
		c := report.LeakCheck{Package: pkg, PID: pid, Leaks: count[pid]}
		end := ends[pid]
		switch {
		case end == nil:
			c.Unchecked = UncheckedCut
		case end.Off != "":
			c.Unchecked = "the leak check could not run: " + end.Off
		case end.Watched:
			c.Unchecked = UncheckedWatched
		}
		if end != nil {
			c.GoVersion, c.Tests, c.DetectionGC = end.GoVersion, end.EndedTests, end.GC
			c.UncheckedTests = end.Unchecked
			c.CheckSeconds, c.EndWaitSeconds = end.CheckSeconds, end.EndWait
		}
		checks = append(checks, c)
	}
	return leaks, checks, errors.Join(errs...)
}

// leakGroups describes the goroutines of one leak file: one group per
// profile record, with the state, creator and ids of the goroutines of
// the dump that have the record's stack. It also returns each group's
// stack signature.
func leakGroups(f leakFile, base string) ([]report.GoroutineGroup, []string) {
	recs := parseProfile(f.Records)
	var dump []*stackparse.Goroutine
	goroot := ""
	if ds, err := stackparse.Parse(strings.NewReader(f.Dump)); err == nil {
		for _, d := range ds {
			dump = append(dump, d.Goroutines...)
			if goroot == "" {
				goroot = d.GOROOT
			}
		}
	}
	if goroot == "" {
		// A dump whose first goroutines show no standard library frame
		// (thousands of them blocked in user code) leaves GOROOT unknown;
		// a module path without a dot would then pass for the standard
		// library.
		goroot = gorootOf(dump, recs)
	}
	bySig := map[string][]*stackparse.Goroutine{}
	for _, g := range dump {
		s := signature(g.Frames)
		bySig[s] = append(bySig[s], g)
	}
	var out []report.GoroutineGroup
	var sigs []string
	for _, r := range recs {
		s := signature(r.Frames)
		g := r
		same := bySig[s]
		if len(same) > 0 {
			g = same[0]
		}
		gg := report.GoroutineGroup{Count: r.Count, Role: "helper", State: g.State}
		if len(same) > 0 {
			gg.State = stackparse.Classify(g).String()
			gg.WaitMinutes = g.WaitMinutes
		}
		if len(same) == r.Count {
			for _, m := range same {
				gg.IDs = append(gg.IDs, m.ID)
			}
		}
		fr, ok := g.UserFrameIn(goroot)
		if !ok && len(g.Frames) > 0 {
			fr, ok = g.Frames[0], true
		}
		if ok {
			gg.Location = RelLocation(fr, base)
			gg.Function = fr.Func
		}
		if g.CreatedBy != nil {
			gg.CreatedBy = g.CreatedBy.Func
		}
		for _, fr := range g.Frames {
			gg.Stack = append(gg.Stack, fmt.Sprintf("%s %s:%d", fr.Func, fr.File, fr.Line))
		}
		out = append(out, gg)
		sigs = append(sigs, s)
	}
	return out, sigs
}

// gorootOf finds GOROOT from a frame of a standard package that every
// blocked program shows somewhere (sync, runtime, testing, time).
func gorootOf(gss ...[]*stackparse.Goroutine) string {
	for _, gs := range gss {
		for _, g := range gs {
			for _, f := range g.Frames {
				switch p := f.Package(); p {
				case "sync", "internal/sync", "runtime", "testing", "time", "context":
					if i := strings.LastIndex(f.File, "/src/"+p+"/"); i > 0 {
						return f.File[:i]
					}
				}
			}
		}
	}
	return ""
}

// parseProfile parses debug=1 goroutine profile records, with or without
// their "goroutine profile: total N" line (the goroutineleak profile's
// says "goroutineleak profile").
func parseProfile(text string) []*stackparse.Goroutine {
	if i := strings.Index(text, " profile: total "); i >= 0 && !strings.Contains(text[:i], "\n") {
		text = text[strings.IndexByte(text, '\n')+1:]
	}
	ds, err := stackparse.Parse(strings.NewReader("goroutine profile: total 1\n" + text))
	if err != nil {
		return nil
	}
	var out []*stackparse.Goroutine
	for _, d := range ds {
		out = append(out, d.Goroutines...)
	}
	return out
}

// profileSignatures returns label + "\x00" + signature for every record of
// a goroutineleak profile that carries the hangdog label.
func profileSignatures(text string) map[string]bool {
	out := map[string]bool{}
	for _, g := range parseProfile(text) {
		if l, ok := g.Labels["hangdog"]; ok {
			out[l+"\x00"+signature(g.Frames)] = true
		}
	}
	return out
}

// signature identifies a stack by its frames outside the runtime, which
// both a dump and a profile record print the same way.
func signature(frames []stackparse.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		if f.IsRuntime() {
			continue
		}
		fmt.Fprintf(&b, "%s %s:%d\n", f.Func, f.File, f.Line)
	}
	return b.String()
}
