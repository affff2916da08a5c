package cg

import "testing"

func TestTwice(t *testing.T) {
	if Twice(21) != 42 {
		t.Fatal(Twice(21))
	}
}

func TestCgoHang(t *testing.T) {
	Twice(1)
	select {}
}
