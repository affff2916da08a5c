package gotest

// This file is the adapter's core.Source: go test -json's stream comes in
// here, is handed to the core as core.Events, is formatted for the user,
// and has the goroutine dumps in it cut out (the one a SIGQUIT of
// hangdog's produces, and those a binary prints by itself).

import (
	"bufio"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hangdog/hangdog/watchdog/internal/core"
	"github.com/hangdog/hangdog/watchdog/internal/format"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// Stream reads go test -json output. It implements core.Source and
// testjson.Handler.
type Stream struct {
	a    *Adapter
	sink core.Sink
	log  *zap.Logger

	mu         sync.Mutex // guards what follows, and the formatter
	out        format.Formatter
	collectors map[string]*collector
	text       *TextLog // hangdog analyze: the input's non-JSON text
	wg         sync.WaitGroup
}

var (
	_ core.Source    = (*Stream)(nil)
	_ core.LogReader = (*Stream)(nil)
)

// NewSource implements core.Adapter: the stream of a run, handing events
// to sink.
func (a *Adapter) NewSource(o core.SourceOptions, sink core.Sink) (core.Source, error) {
	name := o.Format
	if name == "" {
		name = "standard-quiet"
		if Verbose(o.User) {
			name = "standard-verbose"
		}
	}
	out, err := format.New(name, o.Stdout, format.Options{TempDir: o.TempDir})
	if err != nil {
		return nil, err
	}
	s := &Stream{a: a, sink: sink, log: a.log, out: out, collectors: make(map[string]*collector)}
	if o.Log != nil {
		s.text = NewTextLog(o.Log, o.Record)
	}
	a.mu.Lock()
	a.stream = s
	a.mu.Unlock()
	return s, nil
}

// EndLog implements core.LogReader.
func (s *Stream) EndLog() (core.LogResult, error) {
	if s.text == nil {
		return core.LogResult{}, nil
	}
	return s.text.End(s.a)
}

// Scan implements core.Source.
func (s *Stream) Scan(r io.Reader) error {
	if s.text != nil {
		r = &unprefixReader{br: bufio.NewReaderSize(r, 64<<10)}
	}
	return (&testjson.Scanner{}).Scan(r, s)
}

// Event implements testjson.Handler.
func (s *Stream) Event(ev *testjson.Event, raw []byte) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	show := true
	if c := s.collectors[ev.Package]; c != nil {
		show = c.take(ev, now)
	} else if ev.Action == testjson.ActionOutput && isDumpStart(ev.Output) {
		s.startPassive(ev, now)
	}
	s.sink.Event(Event(ev))
	if c := s.collectors[ev.Package]; c != nil && ev.Test == "" && isTerminal(ev.Action) {
		c.finish()
	}
	if ev.Test == "" && isTerminal(ev.Action) {
		s.a.unitEnded(ev.Package) // its binary has exited: its leak check's files are complete
	}
	if show {
		s.out.Event(ev)
	}
}

// Text implements testjson.Handler.
func (s *Stream) Text(chunk []byte, end bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.text != nil {
		// An analysed log is the user's own file: it is read for
		// dumps, not printed again.
		s.text.write(chunk, end)
		return
	}
	s.out.Text(chunk, end)
}

// Flush implements core.Source: the passive collections still open at the
// end of the stream end, and their dumps are diagnosed.
func (s *Stream) Flush() {
	s.mu.Lock()
	for _, c := range s.collectors {
		if c.passive {
			c.finish()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Close implements core.Source.
func (s *Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Close()
}

func isTerminal(a testjson.Action) bool {
	return a == testjson.ActionPass || a == testjson.ActionFail || a == testjson.ActionSkip
}

// collect starts an active collection of unit's output into the dump file
// f at path (after a SIGQUIT of hangdog's); done tells when it is over.
func (s *Stream) collect(unit, path string, f writeFile) *collector {
	c := newCollector(unit, path, f, time.Now())
	s.mu.Lock()
	s.collectors[unit] = c
	s.mu.Unlock()
	return c
}

// uncollect ends an active collection; it returns its write error.
func (s *Stream) uncollect(c *collector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collectors[c.pkg] == c {
		delete(s.collectors, c.pkg)
	}
	return c.err
}

// lastWrite is when c last got output.
func (s *Stream) lastWrite(c *collector) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.lastWrite
}
