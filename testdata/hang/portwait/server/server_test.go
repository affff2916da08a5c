package server

import (
	"bufio"
	"net"
	"testing"
)

func TestGreeting(t *testing.T) {
	srv, err := Start(Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("tcp", Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "READY\n" {
		t.Fatalf("greeting %q, %v", line, err)
	}
}
