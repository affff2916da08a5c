package engine

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/core/track"
	"github.com/hangdog/hangdog/watchdog/internal/gotest"
)

// benchStream builds a test2json stream of pkgs packages with tests tests
// each (every tenth with three subtests that log), interleaving four
// packages at a time as go test -p 4 does.
func benchStream(pkgs, tests int) []byte {
	var b bytes.Buffer
	t0 := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	n := 0
	ts := func() string { n++; return t0.Add(time.Duration(n) * time.Microsecond).Format(time.RFC3339Nano) }
	for p := 0; p < pkgs; p += 4 {
		for i := 0; i < tests; i++ {
			for q := p; q < p+4 && q < pkgs; q++ {
				pkg := fmt.Sprintf("example.com/suite/pkg%04d", q)
				if i == 0 {
					fmt.Fprintf(&b, `{"Time":%q,"Action":"start","Package":%q}`+"\n", ts(), pkg)
				}
				test := fmt.Sprintf("TestSomething%05d", i)
				fmt.Fprintf(&b, `{"Time":%q,"Action":"run","Package":%q,"Test":%q}`+"\n", ts(), pkg, test)
				fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Test":%q,"Output":"=== RUN   %s\n"}`+"\n", ts(), pkg, test, test)
				if i%10 == 0 {
					for _, s := range []string{"a", "b", "c"} {
						sub := test + "/" + s
						fmt.Fprintf(&b, `{"Time":%q,"Action":"run","Package":%q,"Test":%q}`+"\n", ts(), pkg, sub)
						fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Test":%q,"Output":"=== RUN   %s\n"}`+"\n", ts(), pkg, sub, sub)
						fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Test":%q,"Output":"    x_test.go:12: checking \"%s\" against the golden file\n"}`+"\n", ts(), pkg, sub, s)
						fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Test":%q,"Output":"    --- PASS: %s (0.00s)\n"}`+"\n", ts(), pkg, sub, sub)
						fmt.Fprintf(&b, `{"Time":%q,"Action":"pass","Package":%q,"Test":%q,"Elapsed":0}`+"\n", ts(), pkg, sub)
					}
				}
				fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Test":%q,"Output":"--- PASS: %s (0.01s)\n"}`+"\n", ts(), pkg, test, test)
				fmt.Fprintf(&b, `{"Time":%q,"Action":"pass","Package":%q,"Test":%q,"Elapsed":0.01}`+"\n", ts(), pkg, test)
			}
		}
		for q := p; q < p+4 && q < pkgs; q++ {
			pkg := fmt.Sprintf("example.com/suite/pkg%04d", q)
			fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Output":"PASS\n"}`+"\n", ts(), pkg)
			fmt.Fprintf(&b, `{"Time":%q,"Action":"output","Package":%q,"Output":"ok  \t%s\t1.234s\n"}`+"\n", ts(), pkg, pkg)
			fmt.Fprintf(&b, `{"Time":%q,"Action":"pass","Package":%q,"Elapsed":1.234}`+"\n", ts(), pkg)
		}
	}
	return b.Bytes()
}

// BenchmarkEngineStream measures the whole stream path of a run: the go
// test adapter's scanning and standard-quiet formatting, and the engine's
// heartbeat tracking, as hangdog does it for every event. peak-live-MB shows that memory does not grow with the
// stream: compare the two sizes.
func BenchmarkEngineStream(b *testing.B) {
	for _, size := range []struct{ pkgs, tests int }{{40, 2000}, {200, 2000}} {
		stream := benchStream(size.pkgs, size.tests)
		b.Run(fmt.Sprintf("%dMB", len(stream)>>20), func(b *testing.B) {
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			var peak uint64
			for i := 0; i < b.N; i++ {
				a := gotest.New(gotest.Options{})
				e := &engine{tr: track.New(a), live: map[string]*liveHang{}, warned: map[string]bool{}, stderr: &syncWriter{w: io.Discard}}
				a.Start(b.TempDir(), host{e})
				src, err := a.NewSource(core.SourceOptions{Format: "standard-quiet", Stdout: io.Discard, TempDir: b.TempDir()}, sink{e})
				if err != nil {
					b.Fatal(err)
				}
				r := &peakReader{r: bytes.NewReader(stream), base: liveHeap()}
				if err := src.Scan(r); err != nil {
					b.Fatal(err)
				}
				if err := src.Close(); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, r.peak)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
		})
	}
}

// peakReader samples the live heap (after a GC, less what was live before
// the run, the stream itself) every 8 MB of input.
type peakReader struct {
	r    io.Reader
	n    int
	base uint64
	peak uint64
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (p *peakReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += n
	if p.n > 8<<20 {
		p.n = 0
		if h := liveHeap(); h > p.base {
			p.peak = max(p.peak, h-p.base)
		}
	}
	return n, err
}
