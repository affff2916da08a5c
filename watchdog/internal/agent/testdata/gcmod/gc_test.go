// Package gcmod measures, from inside a test binary, what a snapshot of
// hangdog's agent costs it: TestBlocked reads the runtime's GC cycle count
// and allocated bytes, waits on a read from the FIFO named by GCMOD_FIFO
// while the agent is asked for a snapshot, and prints both counts again
// once the harness writes a line.
package gcmod

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
)

func TestBlocked(t *testing.T) {
	fifo := os.Getenv("GCMOD_FIFO")
	if fifo == "" {
		t.Skip("GCMOD_FIFO not set")
	}
	f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	s := []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/heap/goal:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	runtime.GC() // a fresh cycle: the snapshot starts far from the next one
	metrics.Read(s)
	cycles, allocs := s[0].Value.Uint64(), s[1].Value.Uint64()
	fmt.Printf("gcmod: waiting (heap live %d, goal %d, %s)\n", s[3].Value.Uint64(), s[2].Value.Uint64(), runtime.Version())
	if _, err := f.Read(buf); err != nil {
		t.Fatal(err)
	}
	metrics.Read(s)
	fmt.Printf("gcmod: cycles %d allocs %d\n", s[0].Value.Uint64()-cycles, s[1].Value.Uint64()-allocs)
}
