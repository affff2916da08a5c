package format

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultHoldLimit is the number of bytes of held output kept in memory
// when Options.HoldLimit is zero. standard-quiet holds a package's output
// until it knows whether the package failed, and standard-verbose holds the
// output of packages that run while another one is being printed; for most
// runs that is a few hundred KiB. 8 MiB keeps ordinary runs entirely in
// memory and bounds a run whose tests print gigabytes: past the limit,
// held output goes to a private temporary file.
const DefaultHoldLimit = 8 << 20

// store keeps held output: in memory up to limit bytes in total, then in
// one temporary file (mode 0600, in a fresh 0700 directory) that is
// removed by close. If the file cannot be written, output stays in memory:
// no byte is dropped, and close reports the error.
type store struct {
	limit  int
	tmpDir string // parent of our directory; "" = os.TempDir()

	mem      int    // bytes held in memory
	dir      string // our directory, once created
	f        *os.File
	size     int64 // bytes written to f
	live     int64 // bytes of f still referenced
	spillErr error
	readBuf  []byte
}

// held is one ordered buffer of held output. The zero value is empty.
type held struct {
	segs []segment
	n    int64
}

// segment is a run of held bytes, in memory (mem != nil) or in the file.
type segment struct {
	mem []byte
	off int64
	n   int64
}

func (h *held) len() int64 { return h.n }

func (s *store) write(h *held, p []byte) {
	if len(p) == 0 {
		return
	}
	h.n += int64(len(p))
	if s.mem+len(p) > s.limit && s.spillErr == nil {
		err := s.spill(h, p)
		if err == nil {
			return
		}
		s.spillErr = err // keep this and later output in memory
	}
	s.mem += len(p)
	if k := len(h.segs) - 1; k >= 0 && h.segs[k].mem != nil {
		h.segs[k].mem = append(h.segs[k].mem, p...)
		h.segs[k].n += int64(len(p))
		return
	}
	h.segs = append(h.segs, segment{mem: append([]byte(nil), p...), n: int64(len(p))})
}

// writeString is write for a string, without converting it when it stays
// in memory.
func (s *store) writeString(h *held, p string) {
	if s.mem+len(p) > s.limit && s.spillErr == nil || len(p) == 0 {
		s.write(h, []byte(p))
		return
	}
	h.n += int64(len(p))
	s.mem += len(p)
	if k := len(h.segs) - 1; k >= 0 && h.segs[k].mem != nil {
		h.segs[k].mem = append(h.segs[k].mem, p...)
		h.segs[k].n += int64(len(p))
		return
	}
	h.segs = append(h.segs, segment{mem: append([]byte(nil), p...), n: int64(len(p))})
}

func (s *store) spill(h *held, p []byte) error {
	if s.f == nil {
		dir, err := os.MkdirTemp(s.tmpDir, "hangdog-held-") // mode 0700
		if err != nil {
			return fmt.Errorf("hold test output: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(dir, "output"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("hold test output: %w", err)
		}
		s.dir, s.f = dir, f
	}
	if _, err := s.f.WriteAt(p, s.size); err != nil {
		return fmt.Errorf("hold test output: %w", err)
	}
	off := s.size
	s.size += int64(len(p))
	s.live += int64(len(p))
	if k := len(h.segs) - 1; k >= 0 && h.segs[k].mem == nil && h.segs[k].off+h.segs[k].n == off {
		h.segs[k].n += int64(len(p))
		return nil
	}
	h.segs = append(h.segs, segment{off: off, n: int64(len(p))})
	return nil
}

// writeTo writes h's bytes to w in order; h is unchanged.
func (s *store) writeTo(h *held, w io.Writer) error {
	for _, sg := range h.segs {
		if sg.mem != nil {
			if _, err := w.Write(sg.mem); err != nil {
				return err
			}
			continue
		}
		if s.readBuf == nil {
			s.readBuf = make([]byte, 32<<10)
		}
		for off, end := sg.off, sg.off+sg.n; off < end; {
			n := int(min(int64(len(s.readBuf)), end-off))
			if _, err := s.f.ReadAt(s.readBuf[:n], off); err != nil {
				return fmt.Errorf("read held test output: %w", err)
			}
			if _, err := w.Write(s.readBuf[:n]); err != nil {
				return err
			}
			off += int64(n)
		}
	}
	return nil
}

// reset discards h's bytes. When nothing in the file is referenced any
// more, the file is emptied, so a long run does not grow it forever.
func (s *store) reset(h *held) {
	for _, sg := range h.segs {
		if sg.mem != nil {
			s.mem -= len(sg.mem)
		} else {
			s.live -= sg.n
		}
	}
	h.segs, h.n = nil, 0
	if s.f != nil && s.live == 0 && s.size > 0 {
		if err := s.f.Truncate(0); err == nil {
			s.size = 0
		}
	}
}

// close removes the temporary file and reports a failure to spill.
func (s *store) close() error {
	var errs []error
	if s.spillErr != nil {
		errs = append(errs, s.spillErr)
	}
	if s.f != nil {
		errs = append(errs, s.f.Close(), os.RemoveAll(s.dir))
		s.f = nil
	}
	return errors.Join(errs...)
}

// heldWriter appends to a held buffer.
type heldWriter struct {
	s *store
	h *held
}

func (w heldWriter) Write(p []byte) (int, error) {
	w.s.write(w.h, p)
	return len(p), nil
}

// indenter prefixes every line written through it with 4*depth spaces.
type indenter struct {
	w       io.Writer
	prefix  []byte
	midLine bool
}

func (in *indenter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if !in.midLine {
			if _, err := in.w.Write(in.prefix); err != nil {
				return 0, err
			}
			in.midLine = true
		}
		i := 0
		for i < len(p) && p[i] != '\n' {
			i++
		}
		if i < len(p) {
			i++
			in.midLine = false
		}
		if _, err := in.w.Write(p[:i]); err != nil {
			return 0, err
		}
		p = p[i:]
	}
	return total, nil
}

// errWriter remembers the first write error and then writes nothing more.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = fmt.Errorf("write test output: %w", err)
	}
	return n, e.err
}

// WriteString writes s; the error is kept for Close.
func (e *errWriter) WriteString(s string) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if sw, ok := e.w.(io.StringWriter); ok {
		n, err := sw.WriteString(s)
		if err == nil && n < len(s) {
			err = io.ErrShortWrite
		}
		if err != nil {
			e.err = fmt.Errorf("write test output: %w", err)
		}
		return n, e.err
	}
	return e.Write([]byte(s))
}
