package testjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultBufSize is the number of bytes a Scanner holds for one line when
// Scanner.BufSize is zero.
//
// test2json splits test output into Output chunks of at most 1 KiB, so an
// event line is at most about 7 KiB even when every byte of its Output is
// escaped as \u00XX (6 bytes each) and the test name is long. 64 KiB holds
// any event with a wide margin while keeping the scanner's memory small and
// fixed; non-JSON text lines longer than that (a huge build error, a binary
// dumping a blob without newlines) are passed on in chunks of this size.
const DefaultBufSize = 64 << 10

// minBufSize keeps the buffer usable: a line must fit at least a few bytes.
const minBufSize = 16

// Scanner reads a test2json stream line by line and calls a Handler for each
// line. The zero value is ready to use; a Scanner may be reused for several
// streams but not concurrently.
type Scanner struct {
	// BufSize is the maximum number of bytes held for one line; zero means
	// DefaultBufSize (see there for why). A line longer than BufSize cannot
	// be an event: it is passed to Handler.Text in chunks of at most
	// BufSize bytes, never buffered whole, so memory stays bounded however
	// long a line is. Tests shrink it to exercise the chunking.
	BufSize int

	ev  Event
	dec decoder
}

// Scan reads r until EOF with a zero Scanner. See Scanner.Scan.
func Scan(r io.Reader, h Handler) error {
	var s Scanner
	return s.Scan(r, h)
}

// Scan reads r until EOF and calls h for every line, in input order:
//
//   - a line that starts with '{' and decodes (as encoding/json would) to an
//     object with a non-empty Action goes to h.Event;
//   - any other line goes to h.Text byte for byte, newline included; a line
//     longer than BufSize arrives in several calls, the last with end=true.
//
// A last line without a newline is delivered like any other (its raw bytes
// or Text chunk then have no newline). CRLF line ends are kept in raw and in
// Text; an event line may end in "\r\n".
//
// The *Event passed to h.Event is owned by the Scanner and reused: it and
// raw are valid only during the call. The strings in the Event are ordinary
// immutable strings and may be kept (Package and Test are interned, so
// keeping them is cheap).
//
// Unknown actions and unknown fields are tolerated. Scan returns nil at EOF
// and otherwise the first error of r, wrapped; it does not stop for bad
// input.
func (s *Scanner) Scan(r io.Reader, h Handler) error {
	size := s.BufSize
	if size <= 0 {
		size = DefaultBufSize
	}
	if size < minBufSize {
		size = minBufSize
	}
	buf := make([]byte, size)
	start, end := 0, 0 // unread bytes are buf[start:end]
	inLong := false    // in the middle of a line longer than buf, passed as Text
	var readErr error
	empty := 0 // consecutive reads that returned (0, nil)
	for {
		// Deliver every complete line in the buffer.
		for start < end {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			line := buf[start : start+i+1]
			start += i + 1
			if inLong {
				h.Text(line, true)
				inLong = false
				continue
			}
			s.line(line, h)
		}
		if readErr != nil {
			if start < end { // last line without newline
				if inLong {
					h.Text(buf[start:end], true)
				} else {
					s.line(buf[start:end], h)
				}
			}
			if errors.Is(readErr, io.EOF) {
				return nil
			}
			return fmt.Errorf("read test2json stream: %w", readErr)
		}
		// Make room: move the partial line to the front, or pass it on
		// as Text if it fills the whole buffer.
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		if end == len(buf) {
			h.Text(buf[:end], false)
			inLong = true
			end = 0
		}
		n, err := r.Read(buf[end:])
		if n < 0 || n > len(buf)-end {
			return fmt.Errorf("read test2json stream: reader returned invalid count %d", n)
		}
		end += n
		switch {
		case err != nil:
			readErr = err
		case n > 0:
			empty = 0
		default:
			// io.Reader allows (0, nil) now and then; give up, as
			// bufio does, when it never makes progress.
			if empty++; empty >= 100 {
				readErr = io.ErrNoProgress
			}
		}
	}
}

// line delivers one complete line (newline included, if any).
func (s *Scanner) line(line []byte, h Handler) {
	if len(line) > 0 && line[0] == '{' && s.decodeLine(line) {
		h.Event(&s.ev, line)
		return
	}
	h.Text(line, true)
}

// decodeLine decodes line into s.ev and reports whether it is an event.
func (s *Scanner) decodeLine(line []byte) bool {
	s.ev = Event{}
	if s.dec.decode(line, &s.ev) {
		return s.ev.Action != ""
	}
	// Something the fast path does not handle: encoding/json decides.
	s.ev = Event{}
	if err := jsonUnmarshal(line, &s.ev); err != nil {
		return false
	}
	s.dec.internEvent(&s.ev)
	return s.ev.Action != ""
}
