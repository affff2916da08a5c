package testjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// recorder is a Handler that records what it is given and then clobbers
// the caller's buffers, so that a scanner that still used them after the
// call (or handed out strings aliasing them) is caught.
type recorder struct {
	items   []string // "E " + raw for events, "T " + line for text lines
	events  []Event  // copies, strings shared with the scanner's Event
	text    []byte   // current text line being assembled
	all     bytes.Buffer
	maxText int // longest chunk seen
}

func (r *recorder) Event(e *Event, raw []byte) {
	if len(r.text) != 0 {
		panic("event in the middle of a text line")
	}
	r.items = append(r.items, "E "+string(raw))
	r.events = append(r.events, *e)
	r.all.Write(raw)
	clobber(raw)
	*e = Event{Action: "clobbered", Output: "clobbered"}
}

func (r *recorder) Text(chunk []byte, end bool) {
	r.text = append(r.text, chunk...)
	r.all.Write(chunk)
	r.maxText = max(r.maxText, len(chunk))
	if end {
		r.items = append(r.items, "T "+string(r.text))
		r.text = r.text[:0]
	}
	clobber(chunk)
}

func clobber(b []byte) {
	for i := range b {
		b[i] = '#'
	}
}

// readers returns the chunkings of STYLE.md: whole, line by line, 1 and 2
// bytes per read, and data returned together with io.EOF.
func readers(input []byte) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(input) },
		"lines":   func() io.Reader { return &lineReader{b: input} },
		"1byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(input)) },
		"2byte":   func() io.Reader { return &nReader{b: input, n: 2} },
		"dataEOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(input)) },
		"halves":  func() io.Reader { return iotest.HalfReader(bytes.NewReader(input)) },
	}
}

type lineReader struct{ b []byte }

func (r *lineReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := bytes.IndexByte(r.b, '\n') + 1
	if n == 0 {
		n = len(r.b)
	}
	n = copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

type nReader struct {
	b []byte
	n int
}

func (r *nReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func scanAll(t *testing.T, r io.Reader, bufSize int) *recorder {
	t.Helper()
	rec := &recorder{}
	s := Scanner{BufSize: bufSize}
	if err := s.Scan(r, rec); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return rec
}

func fixtureFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return files
}

// TestScanFixtures replays every recorded stream in every chunking, with
// LF and CRLF line ends, and checks that each line arrives once, in order,
// byte for byte, and as an event exactly when it is one.
func TestScanFixtures(t *testing.T) {
	t.Parallel()
	for _, f := range fixtureFiles(t) {
		input, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Non-JSON text around and between events, as old toolchains
		// and build errors produce, and a last line without newline.
		mixed := append([]byte("# build output\nsome text {not json}\n{\"Action\":\"\"}\n"), input...)
		mixed = append(mixed, "trailing text without newline"...)
		for _, crlf := range []bool{false, true} {
			in := mixed
			if crlf {
				in = bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))
			}
			want := expectedItems(in)
			for name, mk := range readers(in) {
				t.Run(fmt.Sprintf("%s/crlf=%v/%s", filepath.Base(f), crlf, name), func(t *testing.T) {
					rec := scanAll(t, mk(), 0)
					if got := rec.all.Bytes(); !bytes.Equal(got, in) {
						t.Fatalf("bytes passed on differ from input")
					}
					if strings.Join(rec.items, "") != strings.Join(want, "") || len(rec.items) != len(want) {
						t.Fatalf("items differ:\n got %q\nwant %q", rec.items, want)
					}
					checkEventsUnclobbered(t, rec)
				})
			}
		}
	}
}

// expectedItems splits input into lines and classifies them with
// encoding/json, independently of the scanner.
func expectedItems(input []byte) []string {
	var items []string
	for _, l := range bytes.SplitAfter(input, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var e Event
		if l[0] == '{' && jsonUnmarshal(l, &e) == nil && e.Action != "" {
			items = append(items, "E "+string(l))
		} else {
			items = append(items, "T "+string(l))
		}
	}
	return items
}

// checkEventsUnclobbered decodes the recorded raw lines again and compares
// with the events kept during the scan, after all buffers were clobbered.
func checkEventsUnclobbered(t *testing.T, rec *recorder) {
	t.Helper()
	k := 0
	for _, it := range rec.items {
		if !strings.HasPrefix(it, "E ") {
			continue
		}
		var want Event
		if err := jsonUnmarshal([]byte(it[2:]), &want); err != nil {
			t.Fatal(err)
		}
		if !sameEvent(rec.events[k], want) {
			t.Fatalf("event %d changed after the call:\n got %#v\nwant %#v", k, rec.events[k], want)
		}
		k++
	}
}

// TestScanTinyBuffer shrinks the buffer below the length of most lines:
// long lines must arrive as text chunks no larger than the buffer, short
// ones as before, and no byte may be lost or reordered.
func TestScanTinyBuffer(t *testing.T) {
	t.Parallel()
	for _, f := range fixtureFiles(t) {
		input, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{16, 17, 100, 300} {
			for name, mk := range readers(input) {
				t.Run(fmt.Sprintf("%s/%d/%s", filepath.Base(f), size, name), func(t *testing.T) {
					rec := scanAll(t, mk(), size)
					if !bytes.Equal(rec.all.Bytes(), input) {
						t.Fatal("bytes passed on differ from input")
					}
					if rec.maxText > size {
						t.Fatalf("text chunk of %d bytes with BufSize %d", rec.maxText, size)
					}
					var want []string
					for _, it := range expectedItems(input) {
						if strings.HasPrefix(it, "E ") && len(it)-2 > size {
							it = "T " + it[2:] // too long to be held: text
						}
						want = append(want, it)
					}
					if strings.Join(rec.items, "\x00") != strings.Join(want, "\x00") {
						t.Fatalf("items differ:\n got %q\nwant %q", rec.items, want)
					}
					checkEventsUnclobbered(t, rec)
				})
			}
		}
	}
}

// TestScanHugeLine passes a 10 MB line through a 64-byte buffer.
func TestScanHugeLine(t *testing.T) {
	t.Parallel()
	line := bytes.Repeat([]byte("{x"), 5<<20)
	input := append(append([]byte(`{"Action":"run","Test":"A"}`+"\n"), line...), "\n"+`{"Action":"pass","Test":"A"}`...)
	var calls, textBytes int
	var ends []bool
	h := handlerFuncs{
		text: func(b []byte, end bool) {
			calls++
			textBytes += len(b)
			if len(b) > 64 {
				t.Fatalf("chunk of %d bytes", len(b))
			}
			if end {
				ends = append(ends, end)
			}
		},
	}
	var events []Action
	h.event = func(e *Event, raw []byte) { events = append(events, e.Action) }
	s := Scanner{BufSize: 64}
	if err := s.Scan(bytes.NewReader(input), &h); err != nil {
		t.Fatal(err)
	}
	if textBytes != len(line)+1 || len(ends) != 1 {
		t.Fatalf("text bytes %d (want %d), ends %d", textBytes, len(line)+1, len(ends))
	}
	if fmt.Sprint(events) != "[run pass]" {
		t.Fatalf("events %v", events)
	}
}

type handlerFuncs struct {
	event func(*Event, []byte)
	text  func([]byte, bool)
}

func (h *handlerFuncs) Event(e *Event, raw []byte) {
	if h.event != nil {
		h.event(e, raw)
	}
}

func (h *handlerFuncs) Text(b []byte, end bool) {
	if h.text != nil {
		h.text(b, end)
	}
}

func TestScanEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty", "", nil},
		{"one event no newline", `{"Action":"run"}`, []string{`E {"Action":"run"}`}},
		{"text no newline", `hello`, []string{"T hello"}},
		{"blank lines", "\n\n", []string{"T \n", "T \n"}},
		{"crlf event", "{\"Action\":\"run\"}\r\n", []string{"E {\"Action\":\"run\"}\r\n"}},
		{"lone cr", "a\rb\n", []string{"T a\rb\n"}},
		{"unknown action", `{"Action":"teleport","Extra":[1]}` + "\n", []string{`E {"Action":"teleport","Extra":[1]}` + "\n"}},
		{"no action", `{"Package":"p"}` + "\n", []string{`T {"Package":"p"}` + "\n"}},
		{"leading space", ` {"Action":"run"}` + "\n", []string{`T  {"Action":"run"}` + "\n"}},
		{"broken json", `{"Action":"run"` + "\n", []string{`T {"Action":"run"` + "\n"}},
		{"nul bytes", "\x00\x00\n", []string{"T \x00\x00\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := scanAll(t, strings.NewReader(tt.input), 0)
			if strings.Join(rec.items, "\x00") != strings.Join(tt.want, "\x00") {
				t.Fatalf("got %q, want %q", rec.items, tt.want)
			}
		})
	}
}

type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestScanReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	rec := &recorder{}
	err := Scan(&errReader{data: []byte("{\"Action\":\"run\"}\npartial"), err: boom}, rec)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if len(rec.items) != 2 || rec.items[1] != "T partial" {
		t.Fatalf("items before the error: %q", rec.items)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestScanNoProgress(t *testing.T) {
	t.Parallel()
	if err := Scan(zeroReader{}, &recorder{}); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v", err)
	}
}

// TestScanAllocsPerEvent checks that scanning allocates at most once per
// event (the Output string): nothing grows with the stream.
func TestScanAllocsPerEvent(t *testing.T) {
	input, err := os.ReadFile("testdata/multi.json")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(input, 20)
	var s Scanner
	h := &handlerFuncs{}
	allocs := testing.AllocsPerRun(5, func() {
		if err := s.Scan(bytes.NewReader(big), h); err != nil {
			t.Fatal(err)
		}
	})
	events := float64(bytes.Count(big, []byte("\n")))
	// One allocation for the buffer, one per Output string.
	if perEvent := allocs / events; perEvent > 1 {
		t.Errorf("%.2f allocations per event", perEvent)
	}
}
