// Fixture cleanup: Close asks the accept loop to stop and waits for it, but
// never closes the listener, so the loop stays blocked in Accept (IO wait)
// and Close waits forever (chan receive). TestEcho passes its body; the hang
// is in the t.Cleanup func that calls Close.
package echo

import (
	"bufio"
	"net"
)

// Server echoes one line per connection.
type Server struct {
	ln   net.Listener
	quit chan struct{}
	done chan struct{}
}

// Start listens on a free local port and serves in the background.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, quit: make(chan struct{}), done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) serve() {
	defer close(s.done)
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
				continue
			}
		}
		go handle(conn)
	}
}

func handle(conn net.Conn) {
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	_, _ = conn.Write([]byte(line))
}

// Close stops the server and waits for the accept loop to return.
func (s *Server) Close() error {
	close(s.quit)
	<-s.done // BUG: s.ln is never closed, so Accept never returns
	return s.ln.Close()
}
