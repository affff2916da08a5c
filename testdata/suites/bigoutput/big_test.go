// Package bigoutput prints one 4 MiB line and fails: every byte of it must
// reach the console, in order.
package bigoutput

import (
	"fmt"
	"strings"
	"testing"
)

func TestBigLine(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "%08d,", i)
	}
	fmt.Println("BEGIN" + b.String() + "END")
	t.Fatal("failing on purpose so that the output is shown")
}

func TestSmall(t *testing.T) { t.Log("small") }
