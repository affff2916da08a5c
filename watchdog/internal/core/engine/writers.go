package engine

// This file holds the writers the engine shares between goroutines or
// keeps writing through errors.

import (
	"io"
	"sync"
)

// syncWriter serialises writes of whole messages from several goroutines.
type syncWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// teeWriter copies the raw stream to --jsonfile. A write error is kept
// and reported at the end; it never stops the run.
type teeWriter struct {
	w   io.Writer
	err error
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.err == nil {
		_, t.err = t.w.Write(p)
	}
	return len(p), nil
}
