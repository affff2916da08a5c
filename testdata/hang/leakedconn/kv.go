// Fixture leakedconn: a key-value server answers one line per request line,
// but drops a client that does not say HELLO first without closing its
// connection (the BUG in handle: `_ = c`). The server's side of the
// connection is then garbage that nothing closes but its finalizer, which
// only a garbage collection runs. TestGetWithoutHello sends a request
// without the greeting and waits for ever in conn.Read (IO wait), until
// something runs a GC: then the read gets EOF and the test fails instead.
// Under plain go test that is sysmon's forced GC, after 2 minutes without
// one.
package leakedconn

import (
	"bufio"
	"net"
	"strings"
	"sync"
)

// Server serves a map over TCP: "HELLO" once, then "GET key" lines.
type Server struct {
	mu   sync.Mutex
	data map[string]string
}

// NewServer returns a server holding data.
func NewServer(data map[string]string) *Server {
	return &Server{data: data}
}

// Serve accepts connections on ln until it is closed.
func (s *Server) Serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *Server) handle(c net.Conn) {
	r := bufio.NewReader(c)
	hello, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(hello) != "HELLO" {
		_ = c // BUG: the connection is dropped, not closed
		return
	}
	defer c.Close()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		key := strings.TrimPrefix(strings.TrimSpace(line), "GET ")
		s.mu.Lock()
		v := s.data[key]
		s.mu.Unlock()
		if _, err := c.Write([]byte(v + "\n")); err != nil {
			return
		}
	}
}
