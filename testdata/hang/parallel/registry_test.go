package registry

import (
	"testing"
	"time"
)

// shared is the registry the integration tests share, like a package-level client.
var shared = New()

func TestRegisterDuplicate(t *testing.T) {
	if err := shared.Register("db", 5432); err != nil {
		t.Fatal(err)
	}
	if err := shared.Register("db", 5433); err == nil {
		t.Fatal("want an error for a duplicate")
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	r := New()
	if err := r.Register("cache", 6379); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
}

func TestPorts(t *testing.T) {
	t.Parallel()
	r := New()
	for i, name := range []string{"a", "b", "c"} {
		if err := r.Register(name, 8000+i); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
}

func TestNames(t *testing.T) {
	t.Parallel()
	if _, ok := New().Lookup("nothing"); ok {
		t.Fatal("found a name in an empty registry")
	}
	time.Sleep(150 * time.Millisecond)
}

func TestLookup(t *testing.T) {
	t.Parallel()
	port, ok := shared.Lookup("db")
	if !ok || port != 5432 {
		t.Fatalf("db: got %d, %v", port, ok)
	}
}
