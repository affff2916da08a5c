package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// countingReader counts what passes through it, to say what an input
// held when it held no dump.
type countingReader struct {
	r      io.Reader
	bytes  int64
	lines  int64
	events int64 // lines that start a test2json event
	binary bool  // a NUL byte was seen
	bol    bool  // the next byte starts a line
	seen   bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	b := p[:n]
	if !c.seen && n > 0 {
		c.seen, c.bol = true, true
	}
	c.bytes += int64(n)
	for len(b) > 0 {
		if c.bol && b[0] == '{' {
			c.events++
		}
		c.binary = c.binary || bytes.IndexByte(b, 0) >= 0
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.bol = false
			break
		}
		c.lines++
		b, c.bol = b[i+1:], true
	}
	return n, err
}

// describe says what was read: "empty", "1,204 lines of text, no
// goroutine header", "3 lines, 3 of them JSON, no goroutine dump in their
// output", "812 bytes of binary data".
func (c *countingReader) describe() string {
	lines := c.lines
	if !c.bol && c.bytes > 0 {
		lines++ // a last line without a newline
	}
	switch {
	case c.bytes == 0:
		return "empty"
	case c.binary:
		return fmt.Sprintf("%s bytes of binary data, not a goroutine profile", thousands(c.bytes))
	case c.events > 0:
		return fmt.Sprintf("%s lines, %s of them JSON, no goroutine dump in their output", thousands(lines), thousands(c.events))
	}
	return fmt.Sprintf("%s lines of text, no goroutine header", thousands(lines))
}

// thousands prints n with commas: 1,204.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
