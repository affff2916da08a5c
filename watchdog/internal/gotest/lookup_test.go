package gotest

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestLookupPkgDirAndModules(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	l := &Lookup{Dir: root}
	want := filepath.Join(root, "stackparse")
	for i := 0; i < 2; i++ { // the second answer comes from the cache
		if d := l.PkgDir("github.com/hangdog/hangdog/stackparse"); !SameDir(d, want) {
			t.Errorf("PkgDir = %q, want %q", d, want)
		}
	}
	if d := l.PkgDir("example.com/no/such/package"); d != "" {
		t.Errorf("PkgDir of an unknown package = %q, want \"\"", d)
	}
	if m := l.Modules(); !slices.Equal(m, []string{"github.com/hangdog/hangdog"}) {
		t.Errorf("Modules = %q", m)
	}
}

func TestSameDir(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	if SameDir("", "") || SameDir(d, "") || !SameDir(d, d) || SameDir(d, filepath.Dir(d)) {
		t.Error("SameDir wrong on plain paths")
	}
	if runtime.GOOS == "windows" {
		return
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(d, link); err != nil {
		t.Fatal(err)
	}
	if !SameDir(d, link) {
		t.Errorf("SameDir(%q, %q) = false through a symbolic link", d, link)
	}
}

// TestFindProcessNone is not parallel: the other tests' go list children
// must not be running while it looks.
func TestFindProcessNone(t *testing.T) {
	l := &Lookup{Dir: t.TempDir()}
	// This test's binary starts no test binary of its own.
	p, err := l.FindProcess(os.Getpid(), "example.com/p")
	if runtime.GOOS != "linux" {
		return // the process table may be unsupported: any answer
	}
	if p != nil || err != nil {
		t.Errorf("FindProcess = %+v, %v; want none", p, err)
	}
}
