// Fixture manygoroutines: a worker pool test that starts 10,000 workers
// waiting on a job channel, then waits for a result that never comes (no
// job is ever sent). It measures how fast hangdog gets a complete snapshot
// of a binary with 10,000 goroutines (bench/overhead.sh, e2e tests).
package pool

import (
	"sync"
	"testing"
)

func worker(jobs <-chan int, results chan<- int, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		results <- j * 2
	}
}

func TestPool(t *testing.T) {
	jobs := make(chan int)
	results := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 10000; i++ {
		wg.Add(1)
		go worker(jobs, results, &wg)
	}
	<-results // BUG: no job was sent
}
