// Package many parks 10,000 goroutines and then hangs.
package many

import (
	"sync"
	"testing"
)

func TestMany(t *testing.T) {
	never := make(chan int)
	var started sync.WaitGroup
	for i := 0; i < 10000; i++ {
		started.Add(1)
		go func() {
			started.Done()
			<-never
		}()
	}
	started.Wait()
	t.Log("parked")
	<-never
}
