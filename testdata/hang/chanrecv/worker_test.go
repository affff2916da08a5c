package worker

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Dir: dir}
	res := <-w.Start("a.txt")
	if res.Err != nil || res.Lines != 2 {
		t.Fatalf("got %+v, want 2 lines", res)
	}
}

func TestStartMissingFile(t *testing.T) {
	w := &Worker{Dir: t.TempDir()}
	res := <-w.Start("missing.txt")
	if res.Err == nil {
		t.Fatal("want an error for a missing file")
	}
}
