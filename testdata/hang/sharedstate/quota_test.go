package quota

import "testing"

func TestReserveOverQuota(t *testing.T) {
	if err := Reserve("alice", Limit+1); err != ErrOverQuota {
		t.Fatalf("got %v, want ErrOverQuota", err)
	}
}

func TestUsed(t *testing.T) {
	if err := Reserve("bob", 3); err != nil {
		t.Fatal(err)
	}
	if got := Used("bob"); got != 3 {
		t.Fatalf("used %d, want 3", got)
	}
}
