package stackparse

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics or loops, that its output is
// independent of how the input is chunked, and that every helper copes
// with whatever Parse produced. Seeds are the real fixtures; regressions
// found by fuzzing live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, file := range fixtureFiles(f) {
		f.Add(string(readFile(f, file)))
	}
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := Parse(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(in, "\n") + 1
		for _, d := range ds {
			if d.StartLine < 1 || d.StartLine > lines {
				t.Errorf("StartLine %d of %d lines", d.StartLine, lines)
			}
			if d.NumGoroutines < len(d.Goroutines) || len(d.Warnings) > DefaultMaxWarnings {
				t.Errorf("counts: %d < %d or %d warnings", d.NumGoroutines, len(d.Goroutines), len(d.Warnings))
			}
			for _, w := range d.Warnings {
				if w.Line < d.StartLine || w.Line > lines {
					t.Errorf("warning at line %d, dump at %d of %d", w.Line, d.StartLine, lines)
				}
			}
			for _, g := range d.Goroutines {
				_ = Classify(g).String()
				g.WaitAddress()
				g.UserFrame("example.com")
				g.UserFrameIn(d.GOROOT)
				for _, fr := range g.Frames {
					fr.Package()
					fr.FuncName()
					fr.IsStdlib()
					fr.IsStdlibIn(d.GOROOT)
					fr.IsRuntime()
					fr.Location()
				}
			}
			for _, r := range TestRoots(d) {
				r.InCleanup()
			}
			MainState(d)
			Group(d.Goroutines, GroupOptions{KeepPointers: true})
		}
		chunked, err := Parse(&chunkReader{s: in, sizes: []int{1, 2, 61}})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := model(ds), model(chunked); a != b {
			t.Errorf("chunked parse differs:\n%s", firstDiff(a, b))
		}
	})
}
