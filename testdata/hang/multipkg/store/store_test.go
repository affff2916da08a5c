package store

import (
	"fmt"
	"testing"
)

func TestPutGet(t *testing.T) {
	var s Store
	for i := 0; i < 10; i++ {
		s.Put(fmt.Sprint(i), "v")
	}
	if s.Get("9") != "v" {
		t.Fatal("lost a value")
	}
}
