package pytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hangdog/hangdog/watchdog/internal/core"
)

// Sink receives what a Source reads, on the goroutine that calls Poll (or
// Run). It must not keep e past the call if it changes it.
type Sink interface {
	// Event is called for every line of every events file, decoded, in
	// each file's order.
	Event(e *Event)
	// Core is called with the tracker's view of the events (zero, one or
	// more per Event; see events.go).
	Core(e core.Event)
}

// Source follows every events-*.jsonl file that appears in a run's private
// directory (a new worker, a replaced worker) and hands each complete line
// to a Sink, decoded. It streams: memory stays bounded by ChunkSize,
// MaxLine and ControllerBatch however long the files grow. A half-written
// last line is kept until its end arrives; a line that cannot be decoded is
// counted (Bad) and the first one reported through Warn, never a panic. It
// is not safe for concurrent use: one goroutine polls it.
type Source struct {
	// Dir is the run's private directory.
	Dir string
	// ChunkSize is how many bytes one read takes from a file (64 KiB:
	// a few hundred lines; a test writes about 20).
	ChunkSize int
	// MaxLine is the longest line kept (1 MiB: a hello with a long argv, a
	// thread table of a thousand threads or a queue of thousands of node
	// ids stays well below it); a longer line is dropped and counted as
	// bad.
	MaxLine int
	// ControllerBatch bounds what one Poll reads of a file that is not a
	// worker's (the controller's, the plain run's) before the workers'
	// (1 MiB), because those lines are held until the workers' new lines
	// were handled (see Poll); the rest waits for the next Poll.
	ControllerBatch int
	// Warn, when set, is told once about the first bad line and once about
	// each file that cannot be read.
	Warn func(msg string)

	files   map[string]*follower
	order   []*follower
	bad     int
	lines   int
	warned  bool
	chunk   []byte
	mapping mapper
}

// NewSource returns a Source of the events files in dir.
func NewSource(dir string) *Source {
	return &Source{Dir: dir}
}

// follower is the read position and the unfinished last line of one file.
type follower struct {
	name   string
	f      *os.File
	failed bool   // could not be opened or read: given up
	line   []byte // an unfinished line
	skip   bool   // dropping an overlong line up to its end
	n      int    // lines read
	role   Role
	worker string
	unit   string
}

// Bad returns how many lines could not be decoded (or were too long).
func (s *Source) Bad() int { return s.bad }

// Lines returns how many lines were read.
func (s *Source) Lines() int { return s.lines }

func (s *Source) init() {
	if s.files == nil {
		s.files = make(map[string]*follower)
	}
	if s.ChunkSize <= 0 {
		s.ChunkSize = 64 << 10
	}
	if s.MaxLine <= 0 {
		s.MaxLine = 1 << 20
	}
	if s.ControllerBatch <= 0 {
		s.ControllerBatch = 1 << 20
	}
	if len(s.chunk) != s.ChunkSize {
		s.chunk = make([]byte, s.ChunkSize)
	}
	s.mapping.init()
}

// Poll reads what the events files hold beyond what earlier Polls read and
// hands it to sink. It first takes up to ControllerBatch bytes of every
// file not known to be a worker's, then reads the workers' files, handling
// each line as it comes, and only then handles the held lines: a line of
// the controller about a worker (its crash, its end) was written after
// everything that worker wrote before it, so that worker's lines are all
// handled first. The error is one of reading the directory; a file that
// cannot be read is reported through Warn and left.
func (s *Source) Poll(sink Sink) error {
	s.init()
	if err := s.scanDir(); err != nil {
		return err
	}
	var held []*follower
	var heldLines [][]heldLine
	for _, fl := range s.order {
		if fl.role == RoleWorker || fl.failed {
			continue
		}
		var lines []heldLine
		s.read(fl, s.ControllerBatch, func(line []byte, n int, long bool) {
			lines = append(lines, heldLine{append([]byte(nil), line...), n, long})
		})
		held = append(held, fl)
		heldLines = append(heldLines, lines)
	}
	// A file seen for the first time may turn out to be a worker's: its
	// lines need not wait.
	for i, fl := range held {
		if fl.role == "" && isWorker(heldLines[i]) {
			for _, h := range heldLines[i] {
				s.handle(fl, h.b, h.n, h.long, sink)
			}
			heldLines[i] = nil
		}
	}
	for _, fl := range s.order {
		if fl.role != RoleWorker || fl.failed {
			continue
		}
		s.read(fl, -1, func(line []byte, n int, long bool) { s.handle(fl, line, n, long, sink) })
	}
	for i, fl := range held {
		for _, h := range heldLines[i] {
			s.handle(fl, h.b, h.n, h.long, sink)
		}
	}
	return nil
}

// heldLine is a line read but not yet handled: its bytes, its number in
// its file, whether it was too long (and its bytes dropped).
type heldLine struct {
	b    []byte
	n    int
	long bool
}

// Run polls at every tick until ctx is done, then once more (the files'
// last lines). Feeding tick from a test makes the follower deterministic.
func (s *Source) Run(ctx context.Context, tick <-chan time.Time, sink Sink) error {
	for {
		select {
		case <-ctx.Done():
			return s.Poll(sink)
		case <-tick:
			if err := s.Poll(sink); err != nil {
				return err
			}
		}
	}
}

// Close closes the files. The Source can be polled again (it reopens
// nothing: what is left unread stays unread).
func (s *Source) Close() {
	for _, fl := range s.order {
		if fl.f != nil {
			fl.f.Close()
			fl.f = nil
		}
		fl.failed = true
	}
}

// scanDir opens the events files that appeared since the last Poll, in the
// order of their names.
func (s *Source) scanDir() error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("pytest: events: %w", err)
	}
	var fresh []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "events-") || !strings.HasSuffix(name, ".jsonl") || s.files[name] != nil {
			continue
		}
		fresh = append(fresh, name)
	}
	sort.Strings(fresh)
	for _, name := range fresh {
		fl := &follower{name: name}
		f, err := os.Open(filepath.Join(s.Dir, name))
		if err != nil {
			fl.failed = true
			s.warn(fmt.Sprintf("pytest: events: %v", err))
		}
		fl.f = f
		s.files[name] = fl
		s.order = append(s.order, fl)
	}
	return nil
}

// lineFunc is called for each complete line of a file: its bytes (valid
// during the call only), its number, and whether it was longer than
// MaxLine (then its bytes are dropped).
type lineFunc func(b []byte, n int, long bool)

// read reads fl's new bytes and calls line for each complete line; limit
// > 0 stops after about that many bytes, at the end of a chunk.
func (s *Source) read(fl *follower, limit int, line lineFunc) {
	total := 0
	for limit <= 0 || total < limit {
		n, err := fl.f.Read(s.chunk)
		total += n
		s.split(fl, s.chunk[:n], line)
		if err == io.EOF || n == 0 {
			return
		}
		if err != nil {
			fl.failed = true
			s.warn(fmt.Sprintf("pytest: events: %s: %v", fl.name, err))
			return
		}
	}
}

func (s *Source) split(fl *follower, b []byte, line lineFunc) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if fl.skip {
				return
			}
			if len(fl.line)+len(b) > s.MaxLine {
				fl.line, fl.skip = fl.line[:0], true
				return
			}
			fl.line = append(fl.line, b...)
			return
		}
		part := b[:i]
		b = b[i+1:]
		fl.n++
		s.lines++
		if fl.skip {
			fl.skip = false
			line(nil, fl.n, true)
			continue
		}
		if len(fl.line) > 0 {
			if len(fl.line)+len(part) > s.MaxLine {
				fl.line = fl.line[:0]
				line(nil, fl.n, true)
				continue
			}
			fl.line = append(fl.line, part...)
			line(fl.line, fl.n, false)
			fl.line = fl.line[:0]
			continue
		}
		if len(part) > s.MaxLine {
			line(nil, fl.n, true)
			continue
		}
		line(part, fl.n, false)
	}
}

// isWorker reports whether lines, the first lines of a file, are an xdist
// worker's: its hello says so, or, before hello, its boot line names a
// worker.
func isWorker(lines []heldLine) bool {
	boot := false
	for _, line := range lines {
		e, err := decodeEvent(line.b)
		if err != nil {
			continue
		}
		if e.Kind == KindHello {
			return e.Worker != "" || e.Role == RoleWorker
		}
		if e.Kind == KindBoot {
			boot = e.Worker != ""
		}
	}
	return boot
}

// handle decodes one line and hands it on.
func (s *Source) handle(fl *follower, line []byte, n int, long bool, sink Sink) {
	if long {
		s.badLine(fl, n, errors.New("line longer than "+strconv.Itoa(s.MaxLine)+" bytes"))
		return
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	e, err := decodeEvent(line)
	if err != nil {
		s.badLine(fl, n, err)
		return
	}
	switch {
	case e.Kind == KindHello:
		fl.worker = e.Worker
		if e.Role != "" {
			fl.role = e.Role
		}
	case e.Kind == KindSessionStart && e.Role != "":
		fl.role = e.Role
	case fl.role == "" && fl.worker == "":
		fl.worker = e.Worker // the boot line's, from the environment
	}
	switch fl.role {
	case RoleWorker:
		fl.unit = fl.worker
	case RoleController:
		fl.unit = ControllerUnit
	case RoleMain:
		fl.unit = MainUnit
	default:
		fl.unit = fl.worker // before hello: a worker's id, else not known yet
	}
	e.Unit = fl.unit
	if e.Role == "" {
		e.Role = fl.role
	}
	sink.Event(e)
	if fl.role != "" {
		// Before hello (the boot line, its thread table) the process's
		// role, and so its unit, is not known for sure: no core event.
		s.mapping.core(e, sink)
	}
}

func (s *Source) badLine(fl *follower, n int, err error) {
	s.bad++
	if !s.warned {
		s.warned = true
		s.warn(fmt.Sprintf("pytest: events: %s line %d: %v (further bad lines are only counted)", fl.name, n, err))
	}
}

func (s *Source) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}
