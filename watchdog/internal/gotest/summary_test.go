package gotest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hangdog/hangdog/stackparse"
)

func readFixture(t testing.TB, rel, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "stackparse", "testdata", "dumps", rel, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSummarizeDumpsStreaming: the streaming path (shared frames, one
// dump at a time) says what SummarizeDump says of the fully parsed dump.
func TestSummarizeDumpsStreaming(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"timeout.txt", "sigquit_test.txt", "crash.txt", "pprof_debug0.pb.gz", "pprof_debug1.txt", "labels_sigquit.txt"} {
		src := readFixture(t, "go1.26", name)
		dumps, err := ReadDumps(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, d := range dumps {
			want = append(want, summaryText(SummarizeDump(d, SummaryOptions{})))
		}
		var got []string
		if err := SummarizeDumps(bytes.NewReader(src), SummaryOptions{}, func(s *DumpSummary) {
			got = append(got, summaryText(s))
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: streaming summary differs:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func summaryText(s *DumpSummary) string {
	var b strings.Builder
	b.WriteString(s.Kind + " " + s.Reason + "\n")
	for _, ts := range s.Tests {
		b.WriteString(ts.Summary + "\n")
	}
	for _, g := range s.Buckets {
		b.WriteString(g.State + " " + g.Location + " " + strings.Join(g.Stack, ";") + " " + g.WaitAddress + "\n")
	}
	for _, l := range s.LockGroups {
		b.WriteString(l.Address + "\n")
	}
	return b.String()
}

// TestTestingInternal: the testing package's own goroutines are hidden,
// test goroutines and user goroutines are not.
func TestTestingInternal(t *testing.T) {
	t.Parallel()
	d, err := stackparse.Parse(bytes.NewReader(readFixture(t, "go1.26", "timeout.txt")))
	if err != nil || len(d) != 1 {
		t.Fatal(err)
	}
	hidden := map[int64]bool{}
	for _, g := range d[0].Goroutines {
		if testingInternal(g, d[0].GOROOT) {
			hidden[g.ID] = true
		}
	}
	for _, g := range d[0].Goroutines {
		_, user := g.UserFrame()
		alarm := len(g.Frames) > 0 && strings.HasPrefix(g.Frames[0].Func, "testing.(*M).startAlarm")
		main := g.ID == 1
		if want := alarm || main || !user; hidden[g.ID] != want {
			t.Errorf("goroutine %d (%s): hidden %v, want %v", g.ID, g.Frames[0].Func, hidden[g.ID], want)
		}
	}
}

// BenchmarkSummarizeDumps is `hangdog stacks` without the output, on the
// big dump of stackparse's BenchmarkParse (run that first to create it).
func BenchmarkSummarizeDumps(b *testing.B) {
	path := filepath.Join(os.TempDir(), "hangdog-stackparse-big-40000-96-"+runtime.Version()+".txt")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skip("run go test -bench BenchmarkParse ./stackparse first")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := SummarizeDumps(bytes.NewReader(data), SummaryOptions{}, func(*DumpSummary) { n++ }); err != nil || n != 1 {
			b.Fatal(err, n)
		}
	}
}

// FuzzSummarize: no input makes the summary panic, with or without
// shared frames, and every goroutine read is either shown or hidden.
func FuzzSummarize(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "stackparse", "testdata", "dumps", "go1.2[06]", "*.txt"))
	decorated, _ := filepath.Glob(filepath.Join("..", "..", "..", "stackparse", "testdata", "dumps", "decorated", "*_go1.26.txt"))
	for _, file := range append(files, decorated...) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := SummarizeDumps(strings.NewReader(in), SummaryOptions{}, func(s *DumpSummary) {
			n := s.Hidden
			for _, b := range s.Buckets {
				n += b.Count
			}
			if n != s.Goroutines {
				t.Errorf("%d goroutines, %d shown or hidden", s.Goroutines, n)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := SummarizeDumps(strings.NewReader(in), SummaryOptions{BucketsOnly: true}, func(s *DumpSummary) {
			n := s.Hidden
			for _, b := range s.Buckets {
				n += b.Count
			}
			if n != s.Goroutines {
				t.Errorf("buckets only: %d goroutines, %d shown or hidden", s.Goroutines, n)
			}
		}); err != nil {
			t.Fatal(err)
		}
		ds, _ := ReadDumps(strings.NewReader(in))
		for _, d := range ds {
			SummarizeDump(d, SummaryOptions{All: true, KeepPointers: true})
		}
	})
}
