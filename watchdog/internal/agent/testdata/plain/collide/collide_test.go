package collide

import "testing"

func TestCollide(t *testing.T) {
	if filepath() != 16 {
		t.Fatal(filepath())
	}
}
