// Package slowquiet has a test that prints nothing for five seconds and
// then passes: slow, not stuck. With a 2 s stall threshold hangdog reports
// it, and must take that back when it passes (recovered, not a hang).
package slowquiet

import (
	"testing"
	"time"
)

func TestSlowQuiet(t *testing.T) {
	time.Sleep(5 * time.Second)
}
