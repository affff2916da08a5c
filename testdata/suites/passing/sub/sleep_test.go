// Package sub has a test that runs until it is stopped when
// HANGDOG_E2E_LONG is set (the interrupt test), and passes at once otherwise.
package sub

import (
	"os"
	"testing"
	"time"
)

func TestLong(t *testing.T) {
	if os.Getenv("HANGDOG_E2E_LONG") == "" {
		return
	}
	for {
		t.Log("still working")
		time.Sleep(200 * time.Millisecond)
	}
}
