package gotest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hangdog/hangdog/stackparse"
)

// TestAllAsleep reads real dumps of every release (stackparse's fixtures):
// the runtime's own deadlock dump is all asleep and runs nothing on a
// CPU; a -timeout dump has the alarm goroutine running.
func TestAllAsleep(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "..", "stackparse", "testdata", "dumps", "go1.*"))
	if len(dirs) == 0 {
		t.Fatal("no dumps")
	}
	for _, dir := range dirs {
		for _, tc := range []struct {
			file          string
			asleep, onCPU bool
		}{
			{"testmain_deadlock.txt", true, false},
			{"deadlock.txt", true, false},
			{"timeout.txt", false, true},
			{"stack.txt", false, true},
		} {
			f, err := os.Open(filepath.Join(dir, tc.file))
			if err != nil {
				continue // not recorded for this release
			}
			dumps, _ := stackparse.Parse(f)
			f.Close()
			var d *stackparse.Dump
			for _, x := range dumps {
				if len(x.Goroutines) > 0 {
					d = x
				}
			}
			if d == nil {
				t.Errorf("%s/%s: no goroutines", dir, tc.file)
				continue
			}
			if got := AllAsleep(d); got != tc.asleep {
				t.Errorf("%s/%s: allAsleep = %v, want %v", filepath.Base(dir), tc.file, got, tc.asleep)
			}
			if got := OnCPU(d); got != tc.onCPU {
				t.Errorf("%s/%s: onCPU = %v, want %v", filepath.Base(dir), tc.file, got, tc.onCPU)
			}
		}
	}
	if AllAsleep(nil) || OnCPU(nil) {
		t.Error("nil dump")
	}
}
