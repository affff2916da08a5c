// Package spin has a test that spins. Run with GODEBUG=asyncpreemptoff=1,
// the timeout's traceback cannot stop it: its stack is unavailable.
package spin

import "testing"

var n int

func TestSpin(t *testing.T) {
	for {
		n++
	}
}
