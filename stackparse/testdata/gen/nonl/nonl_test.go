// Package nonl holds a test that prints without a final newline and then
// hangs, so that the timeout banner lands on the same line as its output:
// "waiting for the server...panic: test timed out after 2s".
package nonl

import (
	"fmt"
	"testing"
)

func TestNoNewline(t *testing.T) {
	fmt.Print("waiting for the server...")
	waitForServer()
}

func waitForServer() {
	<-make(chan int)
}
