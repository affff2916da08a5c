// Run as a file (go test ./cla/hang_test.go): its package is
// command-line-arguments, a path with no dot.
package hang

import "testing"

func wait(ch chan int) { <-ch }

func TestFile(t *testing.T) {
	ch := make(chan int)
	go wait(ch)
	wait(ch)
}
