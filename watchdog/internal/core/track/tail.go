package track

import "github.com/hangdog/hangdog/watchdog/report"

// tail keeps the last report.MaxTestOutput bytes written to it.
type tail struct {
	buf   []byte
	start int // ring start when full
	full  bool
}

func (t *tail) write(s string) {
	const max = report.MaxTestOutput
	if len(s) >= max {
		t.buf = append(t.buf[:0], s[len(s)-max:]...)
		t.start, t.full = 0, true
		return
	}
	if !t.full {
		if len(t.buf)+len(s) <= max {
			t.buf = append(t.buf, s...)
			return
		}
		// Fill up, then wrap.
		n := max - len(t.buf)
		t.buf = append(t.buf, s[:n]...)
		s = s[n:]
		t.full = true
		t.start = 0
	}
	for len(s) > 0 {
		n := copy(t.buf[t.start:], s)
		s = s[n:]
		t.start = (t.start + n) % max
	}
}

func (t *tail) String() string {
	if !t.full {
		return string(t.buf)
	}
	return string(t.buf[t.start:]) + string(t.buf[:t.start])
}
