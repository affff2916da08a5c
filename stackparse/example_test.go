package stackparse_test

import (
	"fmt"
	"os"
	"slices"

	"github.com/hangdog/hangdog/stackparse"
)

// Explain a "go test -timeout" failure: which tests ran, where each one is
// stuck and on what.
func Example() {
	f, err := os.Open("testdata/dumps/go1.26/timeout.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	dumps, err := stackparse.Parse(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := dumps[0]
	fmt.Println(d.Kind, "after", d.TimeoutAfter)
	var lines []string
	for _, r := range stackparse.TestRoots(d) {
		where := "waiting for subtests"
		if !r.Waiting {
			uf, _ := r.Goroutine.UserFrame("example.com/gen")
			where = fmt.Sprintf("%v at %s", stackparse.Classify(r.Goroutine), uf.Location())
		}
		if r.InCleanup() {
			where += " (in t.Cleanup)"
		}
		lines = append(lines, fmt.Sprintf("%s: %s, %d goroutines", r.Test, where, len(r.Members)))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// test timeout after 2s
	// TestCleanupHang: chan receive at hang_test.go:40 (in t.Cleanup), 1 goroutines
	// TestLockOrder: select (no cases) at hang_test.go:47, 3 goroutines
	// TestMutexLeaf: sync.Mutex.Lock at waits.go:55, 1 goroutines
	// TestParent: chan receive at hang_test.go:26, 1 goroutines
	// TestParent: sync.WaitGroup.Wait at hang_test.go:32, 1 goroutines
	// TestParent: waiting for subtests, 1 goroutines
	// TestWaits: chan receive at hang_test.go:59, 17 goroutines
}
