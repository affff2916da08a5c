package pool

import (
	"os"
	"testing"
)

var testPool = &Pool{}

func TestMain(m *testing.M) {
	code := m.Run()
	testPool.Drain() // teardown: wait for in-flight queries
	os.Exit(code)
}

func TestQuery(t *testing.T) {
	got, err := testPool.Query("select 1")
	if err != nil || got != "ok: select 1" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestEmptyQuery(t *testing.T) {
	if _, err := testPool.Query(""); err == nil {
		t.Fatal("want an error")
	}
}
