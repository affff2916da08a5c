package stackparse

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// replicate builds a dump of n goroutines from a real one by repeating its
// goroutine blocks with fresh ids, as a big dump of a real program looks:
// the same few stacks many times.
func replicate(t testing.TB, src []byte, n int) []byte {
	t.Helper()
	b, err := io.ReadAll(newReplicator(t, src, n))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replicator is replicate as a reader, so that a big input need not be
// in memory.
type replicator struct {
	blocks []string
	i, n   int
	buf    []byte
}

func newReplicator(t testing.TB, src []byte, n int) *replicator {
	blocks := regexp.MustCompile(`(?m)^goroutine \d+ `).Split(string(src), -1)
	if len(blocks) < 2 {
		t.Fatal("no goroutines")
	}
	blocks = blocks[1:]
	for i, blk := range blocks {
		// Only the goroutines: what follows the last one (registers,
		// "exit status 2") is dropped.
		if j := strings.Index(blk, "\n\n"); j >= 0 {
			blk = blk[:j]
		}
		blocks[i] = strings.TrimRight(blk, "\n") + "\n\n"
	}
	return &replicator{blocks: blocks, n: n}
}

func (r *replicator) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.i == r.n {
			return 0, io.EOF
		}
		r.buf = fmt.Appendf(r.buf[:0], "goroutine %d %s", r.i+1, r.blocks[r.i%len(r.blocks)])
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// peakHeap runs f, which calls sample now and then, and returns the
// largest live heap sample saw.
func peakHeap(f func(sample func())) uint64 {
	var peak uint64
	var ms runtime.MemStats
	sample := func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	sample()
	f(sample)
	return peak
}

// TestShareFrames: with ShareFrames, goroutines with the same stack share
// one slice, and everything a reader looks at (frames, wait class and
// address) is what a plain parse gives.
func TestShareFrames(t *testing.T) {
	for _, file := range fixtureFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		plain := mustParse(t, bytes.NewReader(src))
		p := Parser{ShareFrames: true}
		shared, err := p.Parse(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) != len(shared) {
			t.Fatalf("%s: %d dumps, %d shared", file, len(plain), len(shared))
		}
		for i := range plain {
			for j, g := range plain[i].Goroutines {
				h := shared[i].Goroutines[j]
				if !sameFrames(g.Frames, h.Frames) || Classify(g) != Classify(h) {
					t.Errorf("%s: goroutine %d differs", file, g.ID)
				}
				a1, ok1 := g.WaitAddress()
				a2, ok2 := h.WaitAddress()
				if a1 != a2 || ok1 != ok2 {
					t.Errorf("%s: goroutine %d waits on %#x, shared %#x", file, g.ID, a1, a2)
				}
			}
		}
	}

	// 4,000 goroutines made of the 18 stacks of a real dump: as many
	// slices as distinct stacks.
	src := replicate(t, readFixture(t, "go1.26", "stack"), 4000)
	p := Parser{ShareFrames: true}
	ds, err := p.Parse(bytes.NewReader(src))
	if err != nil || len(ds) != 1 || len(ds[0].Goroutines) != 4000 {
		t.Fatalf("%v, %d dumps", err, len(ds))
	}
	slices := map[*Frame]bool{}
	for _, g := range ds[0].Goroutines {
		if len(g.Frames) > 0 {
			slices[&g.Frames[0]] = true
		}
	}
	if len(slices) > 20 {
		t.Errorf("%d frame slices for 4000 goroutines of 18 stacks", len(slices))
	}
}

// TestStreamingMemory parses dumps of 5,000 and 50,000 goroutines of the
// same stacks with OnGoroutine: what stays alive does not grow with the
// input.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	base := readFixture(t, "go1.26", "sigquit_test")
	grow := func(n int) uint64 {
		kept := NewGrouper(GroupOptions{})
		seen := 0
		return peakHeap(func(sample func()) {
			p := Parser{ShareFrames: true, OnGoroutine: func(d *Dump, g *Goroutine) {
				// Keep one goroutine per bucket, as a grouped
				// summary would: drop the rest.
				if b := kept.Add(g); len(b.Goroutines) > 1 {
					b.Goroutines = b.Goroutines[:1]
					b.IDs = b.IDs[:1]
				}
				if seen++; seen%5000 == 0 {
					sample()
				}
			}}
			if _, err := p.Parse(newReplicator(t, base, n)); err != nil {
				t.Fatal(err)
			}
			if seen != n || len(kept.Buckets()) == 0 {
				t.Fatalf("%d goroutines seen of %d", seen, n)
			}
		})
	}
	small, big := grow(5000), grow(50000)
	t.Logf("peak heap in use: %d KB for 5,000 goroutines, %d KB for 50,000", small>>10, big>>10)
	if big > 2*small+(1<<20) {
		t.Errorf("memory grows with the input: %d KB for 5,000 goroutines, %d KB for 50,000", small>>10, big>>10)
	}
}

// TestDuplicateIDsSplitDumps: two runtime.Stack dumps printed one after
// the other (two processes, or one process twice) have no preamble to
// tell them apart; goroutine 1 appearing again starts the second.
func TestDuplicateIDsSplitDumps(t *testing.T) {
	a := readFixture(t, "go1.26", "stack")
	b := readFixture(t, "go1.22", "pprof_debug2")
	for name, sep := range map[string]string{"adjacent": "", "log line": "2024-05-01 next process\n", "no blank line": "\x00"} {
		in := string(a) + sep + string(b)
		if sep == "\x00" {
			in = strings.TrimRight(string(a), "\n") + "\n" + string(b)
		}
		ds := mustParse(t, strings.NewReader(in))
		if len(ds) != 2 {
			t.Errorf("%s: %d dumps", name, len(ds))
			continue
		}
		na := len(mustParse(t, bytes.NewReader(a))[0].Goroutines)
		if len(ds[0].Goroutines) != na || len(ds[0].Warnings) != 0 {
			t.Errorf("%s: first dump has %d goroutines (want %d), warnings %v", name, len(ds[0].Goroutines), na, ds[0].Warnings)
		}
	}
}

func protoFixtures(t testing.TB) []string {
	files, _ := filepath.Glob("testdata/dumps/*/pprof_debug0.pb.gz")
	if len(files) == 0 {
		t.Fatal("no proto fixtures")
	}
	return files
}

// TestParseProto reads the debug=0 profiles of every release and checks
// them against the debug=1 text the same program printed.
func TestParseProto(t *testing.T) {
	for _, file := range protoFixtures(t) {
		rel := filepath.Base(filepath.Dir(file))
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !IsGzip(data) {
				t.Fatal("not gzip")
			}
			d, err := ParseProto(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != KindProfile || !strings.HasPrefix(d.Reason, "goroutine profile: total ") {
				t.Errorf("kind %v reason %q", d.Kind, d.Reason)
			}
			text := parseFixture(t, rel, "pprof_debug1")[0]
			if d.NumGoroutines != text.NumGoroutines {
				t.Errorf("%d goroutines, debug=1 says %d", d.NumGoroutines, text.NumGoroutines)
			}
			sum, labels := 0, false
			user := map[string]bool{}
			for _, g := range d.Goroutines {
				sum += g.Count
				if g.ID != 0 || len(g.Frames) == 0 || g.Count < 1 {
					t.Errorf("goroutine %+v", g)
				}
				labels = labels || g.Labels["weird"] == `a]b, c:d "q"`
				if f, ok := g.UserFrame(); ok {
					user[f.Location()] = true
				}
			}
			if sum != d.NumGoroutines || !labels {
				t.Errorf("counts sum to %d of %d; labels %v", sum, d.NumGoroutines, labels)
			}
			for _, g := range text.Goroutines {
				if f, ok := g.UserFrame(); ok && !user[f.Location()] {
					t.Errorf("debug=1 has a goroutine at %s, the proto does not", f.Location())
				}
			}
			// The proto keeps runtime frames, so channel waits are
			// classified (debug=1 hides them).
			waits := map[Wait]bool{}
			for _, g := range d.Goroutines {
				waits[Classify(g)] = true
			}
			for _, w := range []Wait{WaitChanRecv, WaitChanSend, WaitSelect, WaitMutex, WaitWaitGroup, WaitIO, WaitSleep} {
				if !waits[w] {
					t.Errorf("no goroutine in %v", w)
				}
			}
			// Callbacks.
			n := 0
			p := Parser{OnGoroutine: func(*Dump, *Goroutine) { n++ }}
			pd, err := p.ParseProto(bytes.NewReader(data))
			if err != nil || n != len(d.Goroutines) || len(pd.Goroutines) != 0 {
				t.Errorf("callbacks: %v, %d of %d", err, n, len(d.Goroutines))
			}
		})
	}
	for name, in := range map[string]string{"empty": "", "text": "goroutine profile: total 1\n", "junk gzip": "\x1f\x8b\x08\x00junk"} {
		if _, err := ParseProto(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzParseProto: no input makes ParseProto panic.
func FuzzParseProto(f *testing.F) {
	for _, file := range protoFixtures(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ParseProto(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, g := range d.Goroutines {
			Classify(g)
			g.UserFrame()
		}
		Group(d.Goroutines, GroupOptions{})
	})
}

// TestGrouper: one at a time gives what Group gives.
func TestGrouper(t *testing.T) {
	d := parseFixture(t, "go1.26", "sigquit_test")[0]
	want := Group(d.Goroutines, GroupOptions{})
	gr := NewGrouper(GroupOptions{})
	for _, g := range d.Goroutines {
		gr.Add(g)
	}
	got := gr.Buckets()
	if len(got) != len(want) {
		t.Fatalf("%d buckets, Group made %d", len(got), len(want))
	}
	for i := range got {
		if fmt.Sprint(got[i].IDs) != fmt.Sprint(want[i].IDs) {
			t.Errorf("bucket %d: %v, Group: %v", i, got[i].IDs, want[i].IDs)
		}
	}
}
