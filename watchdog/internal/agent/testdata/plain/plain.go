// Package plain is a fixture for the agent's tests: functions that hang
// or burn CPU in ways a watchdog must catch. Its go.mod says go 1.16 so
// that the agent is compiled at an old language version.
package plain

// WaitForever blocks on a channel nobody sends on.
func WaitForever(ch chan int) int {
	return <-ch
}

// sink keeps Spin's work observable.
var sink uint64

// Spin burns CPU until stop returns true.
func Spin(stop func() bool) uint64 {
	x := uint64(1)
	for !stop() {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink = x
	return x
}
