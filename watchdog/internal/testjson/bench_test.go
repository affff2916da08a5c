package testjson

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// benchStream is the recorded fixtures repeated to about 4 MB.
func benchStream(b *testing.B) []byte {
	files, err := filepath.Glob("testdata/*.json")
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

func BenchmarkScan(b *testing.B) {
	input := benchStream(b)
	h := &handlerFuncs{}
	var s Scanner
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Scan(bytes.NewReader(input), h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanEncodingJSON is the same stream decoded with
// encoding/json only, for comparison with the fast path.
func BenchmarkScanEncodingJSON(b *testing.B) {
	input := benchStream(b)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range bytes.SplitAfter(input, []byte("\n")) {
			var e Event
			_ = jsonUnmarshal(l, &e)
		}
	}
}
