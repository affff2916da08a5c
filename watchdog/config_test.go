package watchdog

import (
	"testing"
	"time"
)

func TestParseStallRule(t *testing.T) {
	t.Parallel()
	r, err := ParseStallRule("TestSlow/a=b=2m")
	if err != nil || r.Stall != 2*time.Minute || r.Pattern.String() != "TestSlow/a=b" {
		t.Errorf("got %v %v", r, err)
	}
	for _, bad := range []string{"", "=1s", "TestA=", "TestA=x", "(=1s", "TestA=-1s"} {
		if _, err := ParseStallRule(bad); err == nil {
			t.Errorf("ParseStallRule(%q): no error", bad)
		}
	}
}
