// Package slow has a test that takes long enough to be asked for a dump.
package slow

import (
	"testing"
	"time"
)

func TestSlow(t *testing.T) {
	time.Sleep(1500 * time.Millisecond)
}
