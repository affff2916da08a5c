package gotest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestCPUProfileHotNoDotModule: the hot function of a CPU profile is
// found in a module whose path has no dot (mycorp/platform) when the
// dump says where the standard library lives; judged by import path
// alone, that module would pass for the standard library and the hot
// function would be runtime code or nothing.
func TestCPUProfileHotNoDotModule(t *testing.T) {
	t.Parallel()
	const goroot = "/usr/local/go"
	fn := func(id uint64, name, file string) *profile.Function {
		return &profile.Function{ID: id, Name: name, SystemName: name, Filename: file}
	}
	spin := fn(1, "mycorp/platform/warm.(*Cache).Wait", "/src/mycorp/warm/warm.go")
	nano := fn(2, "runtime.nanotime", goroot+"/src/runtime/time_nofake.go")
	trun := fn(3, "testing.tRunner", goroot+"/src/testing/testing.go")
	loc := func(id uint64, f *profile.Function, line int64) *profile.Location {
		return &profile.Location{ID: id, Line: []profile.Line{{Function: f, Line: line}}}
	}
	l1, l2, l3 := loc(1, nano, 19), loc(2, spin, 29), loc(3, trun, 1934)
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: int64(time.Second),
		Function:      []*profile.Function{spin, nano, trun},
		Location:      []*profile.Location{l1, l2, l3},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{l1, l2, l3}, Value: []int64{90, 900_000_000}},
		},
	}
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	frac, hot := CPUProfile(path, goroot, nil)
	if frac < 0.89 || frac > 0.91 || hot.Func != spin.Name || hot.Line != 29 {
		t.Errorf("CPUProfile = %.2f, %+v; want 0.90 in %s at line 29", frac, hot, spin.Name)
	}
}
