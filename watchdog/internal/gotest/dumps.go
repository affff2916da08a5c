package gotest

import (
	"bufio"
	"bytes"
	"io"
	"os"

	"github.com/hangdog/hangdog/stackparse"
	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

// ReadDumps reads every goroutine dump in r: plain text (a CI log, a
// SIGQUIT dump, runtime.Stack output, a pprof debug=1 or debug=2
// profile), a pprof debug=0 profile (gzipped proto, recognised by its
// magic number), or a go test -json stream, whose Output fields are first
// put back together per package (a dump in such a stream is split across
// thousands of events, and packages interleave). Memory stays bounded
// while reading a stream: each package's output goes through a private
// temporary file.
func ReadDumps(r io.Reader) ([]*stackparse.Dump, error) {
	return ScanDumps(r, &stackparse.Parser{})
}

// ScanDumps is ReadDumps with p's options and callbacks (see
// stackparse.Parser): each dump goes to p.OnDump once complete, in input
// order. For dumps found in a go test -json stream, Dump.Reason names the
// package ("panic: test timed out after 4s (package example.com/a)")
// before OnDump sees it.
func ScanDumps(r io.Reader, p *stackparse.Parser) ([]*stackparse.Dump, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	switch {
	case stackparse.IsGzip(head):
		d, err := p.ParseProto(br)
		if err != nil {
			return nil, err
		}
		return []*stackparse.Dump{d}, nil
	case looksLikeJSONStream(head):
		return dumpsFromJSON(br, p)
	}
	return p.Parse(br)
}

func looksLikeJSONStream(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	return bytes.HasPrefix(head, []byte(`{"Time":`)) || bytes.HasPrefix(head, []byte(`{"Action":`))
}

// jsonSplitter writes each package's output to a file of its own.
type jsonSplitter struct {
	dir   string
	files map[string]*os.File
	order []string
	err   error
}

func (s *jsonSplitter) Event(e *testjson.Event, raw []byte) {
	if e.Action != testjson.ActionOutput || s.err != nil {
		return
	}
	f := s.files[e.Package]
	if f == nil {
		f, s.err = os.CreateTemp(s.dir, "pkg-*.txt")
		if s.err != nil {
			return
		}
		s.files[e.Package] = f
		s.order = append(s.order, e.Package)
	}
	_, s.err = f.WriteString(e.Output)
}

// Text ignores what is not an event: build errors hold no dump.
func (s *jsonSplitter) Text(chunk []byte, end bool) {}

func dumpsFromJSON(r io.Reader, p *stackparse.Parser) ([]*stackparse.Dump, error) {
	dir, err := os.MkdirTemp("", "hangdog-stacks-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s := &jsonSplitter{dir: dir, files: make(map[string]*os.File)}
	defer func() {
		for _, f := range s.files {
			f.Close()
		}
	}()
	if err := testjson.Scan(r, s); err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	var out []*stackparse.Dump
	for _, pkg := range s.order {
		f := s.files[pkg]
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return out, err
		}
		pp := *p
		pp.OnDump = func(d *stackparse.Dump) {
			if d.Reason == "" {
				d.Reason = "package " + pkg
			} else {
				d.Reason += " (package " + pkg + ")"
			}
			if p.OnDump != nil {
				p.OnDump(d)
			}
		}
		dumps, err := pp.Parse(f)
		out = append(out, dumps...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
