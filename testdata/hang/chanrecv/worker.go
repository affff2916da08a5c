// Fixture chanrecv: Start runs a job in a goroutine and should always send a
// Result, but on the error path the goroutine returns without sending.
// TestStartMissingFile waits forever in `<-w.Start(...)` (chan receive);
// the worker goroutine is already gone.
package worker

import (
	"os"
	"strings"
)

// Result is the outcome of one job.
type Result struct {
	Lines int
	Err   error
}

// Worker counts the lines of files in the background.
type Worker struct {
	Dir string
}

// Start counts the lines of the named file in the background. The returned
// channel receives exactly one Result.
func (w *Worker) Start(name string) <-chan Result {
	ch := make(chan Result)
	go func() {
		data, err := os.ReadFile(w.Dir + "/" + name)
		if err != nil {
			return // BUG: the caller never gets a Result
		}
		ch <- Result{Lines: strings.Count(string(data), "\n")}
	}()
	return ch
}
