package stackparse

import (
	"os"
	"testing"
)

// TestRootsThroughAgentWrapper: with hangdog's leak check on, the agent
// calls each test function through a wrapper; the test is still the
// function the wrapper calls, not the wrapper.
func TestRootsThroughAgentWrapper(t *testing.T) {
	f, err := os.Open("testdata/agentwrap/chanrecv-go1.26.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := Parse(f)
	if err != nil || len(ds) != 1 {
		t.Fatalf("parse: %d dumps, %v", len(ds), err)
	}
	roots := TestRoots(ds[0])
	if len(roots) != 1 {
		t.Fatalf("%d roots, want 1", len(roots))
	}
	r := roots[0]
	if r.Test != "TestStartMissingFile" || r.Func != "example.com/chanrecv.TestStartMissingFile" || r.Waiting || r.Goroutine.ID != 20 {
		t.Errorf("root: test %q func %q waiting %v goroutine %d", r.Test, r.Func, r.Waiting, r.Goroutine.ID)
	}
}
