package agent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

//go:noinline
func parkForProfile(ch chan struct{}) { <-ch }

//go:noinline
func allocForProfile() [][]byte {
	var out [][]byte
	for i := 0; i < 64; i++ {
		out = append(out, make([]byte, 64<<10))
	}
	return out
}

var profileSink [][]byte

// TestTextToProto converts the debug=1 text of this process's own
// profiles, as the agent writes them, and checks that the protos name
// the functions (from the "#" lines) and keep the goroutines' labels.
func TestTextToProto(t *testing.T) {
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	profileSink = allocForProfile()
	runtime.MemProfileRate = rate
	runtime.GC() // publish the allocations in the heap profile
	runtime.GC()
	ch := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go pprof.Do(context.Background(), pprof.Labels("hangdog", "a \"quoted\", value}"), func(context.Context) {
		defer wg.Done()
		parkForProfile(ch)
	})
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	var mu sync.Mutex
	mu.Lock()
	go func() { time.Sleep(20 * time.Millisecond); mu.Unlock() }()
	mu.Lock() // a blocking event and a contended mutex
	mu.Unlock()
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	time.Sleep(10 * time.Millisecond) // let the goroutine park
	defer func() { close(ch); wg.Wait() }()

	dir := t.TempDir()
	for _, tc := range []struct{ kind, fn string }{
		{"goroutine", "parkForProfile"},
		{"heap", "allocForProfile"},
		{"block", "TestTextToProto"},
		{"mutex", "TestTextToProto.func"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			var b bytes.Buffer
			if err := pprof.Lookup(tc.kind).WriteTo(&b, 1); err != nil {
				t.Fatal(err)
			}
			txt := filepath.Join(dir, tc.kind+".txt")
			pb := filepath.Join(dir, tc.kind+".pb.gz")
			if err := os.WriteFile(txt, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := textToProto(txt, pb); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(pb)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := profile.Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range p.Sample {
				if len(s.Location) == 0 || len(s.Location[0].Line) == 0 {
					t.Errorf("sample with an unnamed leaf: %v", s)
					continue
				}
				for _, l := range s.Location {
					for _, ln := range l.Line {
						if strings.Contains(ln.Function.Name, tc.fn) && ln.Line > 0 && strings.HasSuffix(ln.Function.Filename, "textprof_test.go") {
							found = true
							if tc.kind == "goroutine" {
								if got := s.Label["hangdog"]; len(got) != 1 || got[0] != "a \"quoted\", value}" {
									t.Errorf("labels %v", s.Label)
								}
							}
						}
					}
				}
			}
			if !found {
				t.Errorf("no sample names %s:\n%s", tc.fn, b.String())
			}
		})
	}
}
