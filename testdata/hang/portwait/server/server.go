// Fixture portwait: package server's test holds a listener on the fixed
// loopback port 127.0.0.1:24517 for as long as it runs, and it never ends:
// Start never attaches the default backend, so no client is ever greeted
// and TestGreeting waits for its greeting (IO wait). Package client's test
// dials the same port, gets no greeting either, takes the server for a
// stale one and waits, retrying net.Listen every 100 ms, for the port to
// become free — which needs package server's test to end. The client's
// goroutines show only a retry loop around net.Listen; who holds the port
// is visible only from outside (/proc/net/tcp).
package server

import (
	"bufio"
	"fmt"
	"net"
	"os"
)

// Addr is the server's well-known address; PORTWAIT_ADDR overrides it so
// that two runs of this fixture (two test packages of hangdog) do not meet.
var Addr = addr()

func addr() string {
	if a := os.Getenv("PORTWAIT_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:24517"
}

// Server greets each client with "READY" once its backend is attached,
// then echoes lines back.
type Server struct {
	ln       net.Listener
	attached chan struct{}
}

// Start listens on addr and serves with the default backend.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, attached: make(chan struct{})}
	// BUG: the default backend is never attached (close(s.attached) is
	// missing), so every client waits for its greeting.
	go s.serve()
	return s, nil
}

// Close stops accepting clients.
func (s *Server) Close() error { return s.ln.Close() }

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	<-s.attached
	fmt.Fprintln(c, "READY")
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		fmt.Fprintln(c, sc.Text())
	}
}
