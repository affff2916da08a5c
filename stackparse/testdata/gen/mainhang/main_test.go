package mainhang

import (
	"os"
	"testing"
)

// TestMain blocks before m.Run: the runtime's deadlock detector fires.
func TestMain(m *testing.M) {
	setup()
	os.Exit(m.Run())
}

func setup() {
	ch := make(chan int)
	<-ch
}

func TestNeverRuns(t *testing.T) {}
