package engine

import (
	"regexp"
	"testing"
	"time"
)

// TestThreshold: a --stall-for rule wins for the tests it matches, never
// for the unit itself; everything else has --stall.
func TestThreshold(t *testing.T) {
	t.Parallel()
	r := StallRule{Pattern: regexp.MustCompile("TestSlow/a=b"), Stall: 2 * time.Minute}
	e := &engine{opts: Options{Stall: time.Minute, StallFor: []StallRule{r}}}
	for test, want := range map[string]time.Duration{"TestSlow/a=b/c": 2 * time.Minute, "TestX": time.Minute, "": time.Minute} {
		if got, why := e.threshold("p", test); got != want || why == "" {
			t.Errorf("threshold(%q) = %v (%s), want %v", test, got, why, want)
		}
	}
}
