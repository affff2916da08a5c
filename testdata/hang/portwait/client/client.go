// Package client talks to the server at server.Addr; its tests start a
// stub server there when the real one does not answer. See package server
// for what this fixture does.
package client

import (
	"bufio"
	"net"
	"time"
)

// Dial connects to addr, retrying every 50 ms while nothing listens there
// (the server may still be starting).
func Dial(addr string) (net.Conn, error) {
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Greeting reads the server's greeting line, waiting at most d.
func Greeting(c net.Conn, d time.Duration) (string, error) {
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	defer c.SetReadDeadline(time.Time{})
	return bufio.NewReader(c).ReadString('\n')
}

// ListenStub listens on addr for a stub server, waiting for the port to
// become free if a stale server from an earlier run still holds it.
func ListenStub(addr string) (net.Listener, error) {
	for {
		ln, err := net.Listen("tcp", addr) // BUG: no deadline: waits as long as anyone holds the port
		if err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
