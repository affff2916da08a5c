package orphans

import (
	"os"
	"testing"
)

func TestWorkers(t *testing.T) {
	pool, err := StartWorkers(os.Getenv("HANGDOG_FIXTURE_PIDS"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Wait(); err != nil { // BUG: the pool never exits
		t.Fatal(err)
	}
}
