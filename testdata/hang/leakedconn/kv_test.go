package leakedconn

import (
	"bufio"
	"net"
	"testing"
)

func start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go NewServer(map[string]string{"color": "blue"}).Serve(ln)
	return ln.Addr().String()
}

func get(t *testing.T, c net.Conn, key string) string {
	t.Helper()
	if _, err := c.Write([]byte("GET " + key + "\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return line
}

func TestGet(t *testing.T) {
	c, err := net.Dial("tcp", start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("HELLO\n")); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "color"); got != "blue\n" {
		t.Errorf("got %q", got)
	}
}

func TestGetWithoutHello(t *testing.T) {
	c, err := net.Dial("tcp", start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server drops us without a word; the read waits until its side
	// of the connection is closed, which only its finalizer does.
	if got := get(t, c, "color"); got != "" {
		t.Errorf("got %q from a server that dropped us", got)
	}
}
