package gotest

// How a snapshot judges a stall: stuck, moving or spinning, from two
// goroutine dumps a CPU window apart and the CPU profile of that window.

import (
	"os"
	"slices"
	"sort"

	"github.com/google/pprof/profile"

	"github.com/hangdog/hangdog/stackparse"
)

// Verdict compares the goroutines of a hang (its groups, as Diagnose gave
// them for d2) in two dumps a CPU window apart: "spinning" (busy on a CPU
// in the test's code), "stuck" (the same stacks in both), or "moving"
// (they changed: slow, not stuck). changed lists the goroutines whose
// stacks differ.
func Verdict(d1, d2 *stackparse.Dump, groups []GoroutineGroup, cpuFrac float64, hot stackparse.Frame) (string, []int64) {
	// Busy: a quarter of a CPU spent in user code while a goroutine of the
	// test is on a CPU. On a machine too loaded to give it that quarter, a
	// goroutine of the test on a CPU in both dumps, with the profile's
	// time in user code, is busy too.
	if hot.Func != "" && cpuFrac > 0 {
		for _, g := range groups {
			if g.State == "running" || g.State == "runnable" {
				if cpuFrac >= 0.25 || onCPUIn(d1, g.IDs) {
					return "spinning", nil
				}
			}
		}
	}
	if d1 == nil || d1 == d2 {
		return "stuck", nil
	}
	before, after := byID(d1), byID(d2)
	var changed []int64
	moved := make(map[int64]bool)
	for _, gg := range groups {
		for _, id := range gg.IDs {
			if now := after[id]; now == nil || !sameStack(before[id], now) {
				changed = append(changed, id)
				moved[id] = true
			}
		}
	}
	if len(changed) == 0 {
		return "stuck", nil
	}
	// The test's own goroutine decides: helpers may come and go.
	for _, gg := range groups {
		if gg.Role != "test" {
			continue
		}
		for _, id := range gg.IDs {
			if moved[id] {
				return "moving", changed
			}
		}
		return "stuck", changed
	}
	return "moving", changed
}

// onCPUIn reports whether one of the goroutines ids is running or runnable
// in d (the first dump; d2 is what the groups say).
func onCPUIn(d *stackparse.Dump, ids []int64) bool {
	if d == nil {
		return false
	}
	for _, g := range d.Goroutines {
		if (g.State == "running" || g.State == "runnable") && slices.Contains(ids, g.ID) {
			return true
		}
	}
	return false
}

// byID indexes the goroutines of a dump by id.
func byID(d *stackparse.Dump) map[int64]*stackparse.Goroutine {
	m := make(map[int64]*stackparse.Goroutine, len(d.Goroutines))
	for _, g := range d.Goroutines {
		m[g.ID] = g
	}
	return m
}

func sameStack(a, b *stackparse.Goroutine) bool {
	if a == nil || b == nil || len(a.Frames) != len(b.Frames) || a.State != b.State {
		return false
	}
	for i := range a.Frames {
		if a.Frames[i].Func != b.Frames[i].Func || a.Frames[i].Line != b.Frames[i].Line {
			return false
		}
	}
	return true
}

// CPUProfile reads a CPU profile: the share of one CPU it saw used, and
// the innermost user-code frame where the most time went. goroot is where
// the binary's standard library sources are (the dump's GOROOT), so that a
// module whose path has no dot ("mycorp/platform") is still user code.
func CPUProfile(path, goroot string, modules []string) (float64, stackparse.Frame) {
	if path == "" {
		return 0, stackparse.Frame{}
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, stackparse.Frame{}
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return 0, stackparse.Frame{}
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			idx = i
		}
	}
	if idx < 0 || p.DurationNanos <= 0 {
		return 0, stackparse.Frame{}
	}
	var total int64
	by := make(map[stackparse.Frame]int64)
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		var frames []stackparse.Frame
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil {
					frames = append(frames, stackparse.Frame{Func: ln.Function.Name, File: ln.Function.Filename, Line: int(ln.Line)})
				}
			}
		}
		g := &stackparse.Goroutine{Frames: frames}
		if fr, ok := g.UserFrameIn(goroot, modules...); ok {
			by[fr] += v
		}
	}
	var hot stackparse.Frame
	var best int64
	keys := make([]stackparse.Frame, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Func < keys[j].Func })
	for _, k := range keys {
		if by[k] > best {
			hot, best = k, by[k]
		}
	}
	return float64(total) / float64(p.DurationNanos), hot
}
