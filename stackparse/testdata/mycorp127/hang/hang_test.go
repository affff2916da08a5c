// Package hang hangs with pprof labels set: Go 1.27 prints them in
// traceback headers by default for a module whose go line says 1.27.
package hang

import (
	"context"
	"runtime/pprof"
	"testing"
)

var never = make(chan int)

func TestLabels(t *testing.T) {
	labels := pprof.Labels("worker", "fetch", "note", "a b, c:d")
	pprof.Do(context.Background(), labels, func(ctx context.Context) {
		go func() { <-never }() // inherits the labels
		<-never
	})
}
