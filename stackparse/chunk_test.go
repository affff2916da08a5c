package stackparse

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every fixture must parse to the same model however the input arrives
// (whole, line by line, in 1–2 byte reads) and however CI damaged it.

// chunkReader returns at most sizes[i%len(sizes)] bytes per Read.
type chunkReader struct {
	s     string
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := min(r.sizes[r.i%len(r.sizes)], len(p), len(r.s))
	r.i++
	copy(p, r.s[:n])
	r.s = r.s[n:]
	return n, nil
}

// lineReader returns one line per Read.
type lineReader struct{ s string }

func (r *lineReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := strings.IndexByte(r.s, '\n') + 1
	if n == 0 {
		n = len(r.s)
	}
	n = min(n, len(p))
	copy(p, r.s[:n])
	r.s = r.s[n:]
	return n, nil
}

func mapLines(s string, f func(i int, l string) string) string {
	ls := strings.Split(s, "\n")
	for i := range ls {
		ls[i] = f(i, ls[i])
	}
	return strings.Join(ls, "\n")
}

var gluedHeader = regexp.MustCompile(`(\+0x[0-9a-f]+)\n\n(goroutine \d)`)

var damages = []struct {
	name string
	f    func(string) string
}{
	{"crlf", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
	{"timestamps", func(s string) string {
		// GitHub Actions style; the fraction has a varying number of digits.
		return mapLines(s, func(i int, l string) string {
			return fmt.Sprintf("2024-05-01T10:%02d:%02d.%dZ %s", i/60%60, i%60, 1000+i*37, l)
		})
	}},
	{"clock", func(s string) string {
		return mapLines(s, func(i int, l string) string { return fmt.Sprintf("[12:00:%02d] %s", i%60, l) })
	}},
	{"line numbers", func(s string) string {
		return mapLines(s, func(i int, l string) string { return fmt.Sprintf("%4d: %s", i+1, l) })
	}},
	{"tabs to spaces", func(s string) string { return strings.ReplaceAll(s, "\t", "    ") }},
	{"no blank lines", func(s string) string {
		for strings.Contains(s, "\n\n") {
			s = strings.ReplaceAll(s, "\n\n", "\n")
		}
		return s
	}},
	{"glued headers", func(s string) string { return gluedHeader.ReplaceAllString(s, "$1$2") }},
	{"crlf timestamps spaces", func(s string) string {
		s = strings.ReplaceAll(s, "\t", "        ")
		s = mapLines(s, func(i int, l string) string { return fmt.Sprintf("2024-05-01T10:00:00.%07dZ %s", i, l) })
		return strings.ReplaceAll(s, "\n", "\r\n")
	}},
}

// model is the comparable part of a parse: no line numbers, and preamble
// text with whitespace normalised.
func model(ds []*Dump) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "dump %v %q %v %v n=%d\n", d.Kind, d.Reason, d.TimeoutAfter, d.RunningTests, d.NumGoroutines)
		for _, p := range d.Preamble {
			fmt.Fprintf(&b, "  pre %q\n", strings.Join(strings.Fields(p), " "))
		}
		for _, g := range d.Goroutines {
			c := *g
			c.Frames, c.CreatedBy, c.Ancestors = nil, nil, nil
			fmt.Fprintf(&b, "  %+v\n", c)
			for _, f := range g.Frames {
				fmt.Fprintf(&b, "    %+v\n", f)
			}
			if g.CreatedBy != nil {
				fmt.Fprintf(&b, "    created by %+v\n", *g.CreatedBy)
			}
			for _, a := range g.Ancestors {
				fmt.Fprintf(&b, "    ancestor %d %+v\n", a.ID, a.Frames)
			}
		}
	}
	return b.String()
}

func fixtureFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/dumps/*/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return files
}

func mustParse(t *testing.T, r io.Reader) []*Dump {
	t.Helper()
	ds, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestChunking(t *testing.T) {
	for _, file := range fixtureFiles(t) {
		rel, _ := filepath.Rel("testdata/dumps", file)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			src := string(readFile(t, file))
			want := model(mustParse(t, strings.NewReader(src)))
			readers := map[string]io.Reader{
				"lines":   &lineReader{src},
				"1-2":     &chunkReader{s: src, sizes: []int{1, 2}},
				"odd":     &chunkReader{s: src, sizes: []int{7, 3, 113}},
				"damaged": nil,
			}
			for name, r := range readers {
				if r == nil {
					continue
				}
				if got := model(mustParse(t, r)); got != want {
					t.Errorf("%s reads: model differs:\n%s", name, firstDiff(want, got))
				}
			}
			for _, dm := range damages {
				ds := mustParse(t, &chunkReader{s: dm.f(src), sizes: []int{4096, 5}})
				for _, d := range ds {
					for _, w := range d.Warnings {
						t.Errorf("%s: warning %+v", dm.name, w)
					}
				}
				if got := model(ds); got != want {
					t.Errorf("%s: model differs:\n%s", dm.name, firstDiff(want, got))
				}
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return "(equal)"
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
