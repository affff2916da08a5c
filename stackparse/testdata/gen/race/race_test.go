// Package race holds a test with a data race, for the race report
// fixtures (go test -race prints "WARNING: DATA RACE" with the stacks of
// both goroutines and where they were created).
package race

import (
	"testing"
	"time"
)

// TestRace writes a counter from the test's goroutine and, unsynchronised,
// from a goroutine it starts; the sleep makes the test's write the earlier
// one, so the report shows the helper's access first.
func TestRace(t *testing.T) {
	var n int
	done := make(chan bool)
	go writer(&n, done)
	n++
	<-done
}

func writer(n *int, done chan<- bool) {
	time.Sleep(100 * time.Millisecond)
	bump(n)
	done <- true
}

func bump(n *int) { *n++ }

// TestRaceFinished races with a goroutine that has exited by the time of
// the second access: the report says "(finished)".
func TestRaceFinished(t *testing.T) {
	var n int
	go bump(&n)
	time.Sleep(200 * time.Millisecond)
	n++
}
