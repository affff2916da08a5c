// Package passing has tests that pass, log and skip.
package passing

import "testing"

func TestOne(t *testing.T) { t.Log("hello from TestOne") }

func TestSub(t *testing.T) {
	for _, n := range []string{"a", "b"} {
		t.Run(n, func(t *testing.T) {})
	}
}

func TestSkipped(t *testing.T) { t.Skip("not today") }
