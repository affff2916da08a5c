// Package profmod profiles itself while hangdog's agent is asked for a
// snapshot: TestSelfProfiled has a CPU profile of its own running,
// TestRates and TestRateNoEvent set the block and mutex profile rates in
// code (TestRateNoEvent has no blocking event recorded yet). Each waits on a
// read from the FIFO named by PROFMOD_FIFO while the snapshot is taken,
// then checks that its profiling still works as it set it up.
package profmod

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

func wait(t *testing.T, what string) {
	t.Helper()
	fifo := os.Getenv("PROFMOD_FIFO")
	if fifo == "" {
		t.Skip("PROFMOD_FIFO not set")
	}
	f, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Logf("profmod: waiting (%s)", what)
	if _, err := f.Read(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
}

func TestSelfProfiled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	wait(t, "own CPU profile running")
	deadline := time.Now().Add(200 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 100 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("own CPU profile: %d bytes, %v", len(data), err)
	}
	// A second profile of our own starts: nothing holds the profiler.
	if err := pprof.StartCPUProfile(new(bytes.Buffer)); err != nil {
		t.Fatalf("second own CPU profile: %v", err)
	}
	pprof.StopCPUProfile()
	t.Logf("profmod: own CPU profile %d bytes", len(data))
}

//go:noinline
func blockAfterSnapshot() {
	ch := make(chan int)
	go func() { time.Sleep(10 * time.Millisecond); ch <- 1 }()
	<-ch
}

func TestRates(t *testing.T) {
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(5)
	defer runtime.SetBlockProfileRate(0)
	defer runtime.SetMutexProfileFraction(0)
	var mu sync.Mutex
	mu.Lock()
	go func() { time.Sleep(10 * time.Millisecond); mu.Unlock() }()
	mu.Lock() // a first blocking event, as a program that profiles has
	mu.Unlock()

	wait(t, "block rate 1, mutex fraction 5")
	if got := runtime.SetMutexProfileFraction(-1); got != 5 {
		t.Errorf("mutex profile fraction %d after the snapshot, want 5", got)
	}
	// There is no getter for the block rate: a rate of 1 records every
	// blocking event, so this one must be in the profile.
	blockAfterSnapshot()
	var b strings.Builder
	pprof.Lookup("block").WriteTo(&b, 1)
	if !strings.Contains(b.String(), "profmod.blockAfterSnapshot") {
		t.Errorf("blocking event after the snapshot not recorded: the block rate was not restored\n%s", b.String())
	}
}

func TestRateNoEvent(t *testing.T) {
	runtime.SetBlockProfileRate(1)
	defer runtime.SetBlockProfileRate(0)
	wait(t, "block rate 1, no blocking event yet")
	blockAfterSnapshot()
	var b strings.Builder
	pprof.Lookup("block").WriteTo(&b, 1)
	if !strings.Contains(b.String(), "profmod.blockAfterSnapshot") {
		t.Errorf("blocking event after the snapshot not recorded: the block rate was not restored\n%s", b.String())
	}
}
