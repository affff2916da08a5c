package progress

import (
	"testing"
	"time"
)

func TestSlowProgress(t *testing.T) {
	for i := 1; i <= 12; i++ {
		Step()
		t.Logf("step %d/12 done", i)
	}
}

func TestQuietSleep(t *testing.T) {
	time.Sleep(time.Second)
}
