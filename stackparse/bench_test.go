package stackparse

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// bigDump returns a pprof debug=2 dump of 40,000 goroutines, made by
// testdata/gen/prog with the local toolchain and cached in the temp
// directory (it is about 48 MB, too big to commit). bench/stacks.sh uses
// the same generator and arguments.
func bigDump(b *testing.B) []byte {
	b.Helper()
	path := filepath.Join(os.TempDir(), "hangdog-stackparse-big-40000-96-"+runtime.Version()+".txt")
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
		return data
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "run", "./prog", "big", "40000", "96")
	cmd.Dir = filepath.Join("testdata", "gen")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		b.Skipf("cannot generate the big dump: %v\n%s", err, stderr.Bytes())
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), 0o644); err == nil {
		_ = os.Rename(tmp, path)
	}
	return out.Bytes()
}

func BenchmarkParse(b *testing.B) {
	data := bigDump(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ds, err := Parse(bytes.NewReader(data))
		if err != nil || len(ds) != 1 || len(ds[0].Goroutines) < 40000 {
			b.Fatalf("%v, %d dumps", err, len(ds))
		}
	}
}

// BenchmarkParseShared is what `hangdog stacks` does: goroutines with the
// same stack share their frames.
func BenchmarkParseShared(b *testing.B) {
	data := bigDump(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := Parser{ShareFrames: true}
		ds, err := p.Parse(bytes.NewReader(data))
		if err != nil || len(ds) != 1 || len(ds[0].Goroutines) < 40000 {
			b.Fatalf("%v, %d dumps", err, len(ds))
		}
	}
}

// BenchmarkParseStreaming hands each goroutine to a callback and keeps
// none: memory stays bounded by the largest goroutine.
func BenchmarkParseStreaming(b *testing.B) {
	data := bigDump(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		p := Parser{OnGoroutine: func(*Dump, *Goroutine) { n++ }}
		if _, err := p.Parse(bytes.NewReader(data)); err != nil || n < 40000 {
			b.Fatalf("%v, %d goroutines", err, n)
		}
	}
}

func BenchmarkGroup(b *testing.B) {
	ds, err := Parse(bytes.NewReader(bigDump(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if bs := Group(ds[0].Goroutines, GroupOptions{}); len(bs) == 0 {
			b.Fatal("no buckets")
		}
	}
}
