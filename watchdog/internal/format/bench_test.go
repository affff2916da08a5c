package format

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hangdog/hangdog/watchdog/internal/testjson"
)

func benchStream(b *testing.B) []byte {
	files, err := filepath.Glob("../testjson/testdata/*.json")
	if err != nil || len(files) == 0 {
		b.Fatalf("no fixtures: %v", err)
	}
	var one []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, data...)
	}
	return bytes.Repeat(one, 4<<20/len(one)+1)
}

func benchFormat(b *testing.B, name string) {
	input := benchStream(b)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := New(name, io.Discard, Options{TempDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if err := testjson.Scan(bytes.NewReader(input), Handler(f)); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatStandardQuiet(b *testing.B)   { benchFormat(b, StandardQuiet) }
func BenchmarkFormatStandardVerbose(b *testing.B) { benchFormat(b, StandardVerbose) }
func BenchmarkFormatDots(b *testing.B)            { benchFormat(b, Dots) }
func BenchmarkFormatPkgName(b *testing.B)         { benchFormat(b, PkgName) }
func BenchmarkFormatTestName(b *testing.B)        { benchFormat(b, TestName) }
