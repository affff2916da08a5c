package parse

import "testing"

func TestKV(t *testing.T) {
	k, v, ok := KV("a=b")
	if !ok || k != "a" || v != "b" {
		t.Fatalf("got %q %q %v", k, v, ok)
	}
}
