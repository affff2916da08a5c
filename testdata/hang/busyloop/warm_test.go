package warm

import "testing"

func TestWaitWarm(t *testing.T) {
	var c Cache
	go c.Warm(map[string]string{"a": "1"})
	c.WaitWarm()
	if c.Len() != 1 {
		t.Fatalf("len %d", c.Len())
	}
}

func TestWaitWarmEmpty(t *testing.T) {
	var c Cache
	go c.Warm(nil)
	c.WaitWarm()
	if c.Len() != 0 {
		t.Fatalf("len %d", c.Len())
	}
}
