package history

// This file writes the history back: merged with what other runs saved
// meanwhile, under the file's lock, through a rename.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Save writes the history: under the file's lock, it reads what is on
// disk now (other runs may have saved since Open), adds what was recorded
// since Open or the last Save, applies the bounds, and replaces the file
// through a temporary file and a rename, so a reader sees the old or the
// new file, never a part. The directory is created if needed (0700: test
// names can be private). A corrupt file on disk is replaced.
func (h *History) Save() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	dir := filepath.Dir(h.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("history save: %w", err)
	}
	unlock, err := lock(h.path + ".lock")
	if err != nil {
		return fmt.Errorf("history save: lock: %w", err)
	}
	defer unlock()

	disk := file{Version: Version, Packages: map[string]int{}}
	if b, err := os.ReadFile(h.path); err == nil {
		if f, derr := decode(h.path, b); derr == nil {
			disk = f
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("history save: %w", err)
	}
	counts := maps(disk.Packages)
	for p, n := range h.runs {
		counts[p] += n
	}
	var add []entry
	pkgs := make([]string, 0, len(h.pending))
	for p := range h.pending {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		add = append(add, h.pending[p]...)
	}
	f := merge(disk, add, counts, h.maxSamples())
	h.prune(&f)
	if f.Tests == nil {
		f.Tests = []entry{}
	}
	b, err := json.MarshalIndent(f, "", "\t")
	if err != nil {
		return fmt.Errorf("history save: %w", err)
	}
	b = append(b, '\n')
	if err := writeFile(h.path, b); err != nil {
		return fmt.Errorf("history save: %w", err)
	}
	h.data, h.pending, h.runs = f, nil, nil
	return nil
}

// writeFile replaces path with b through a temporary file in the same
// directory.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// Threshold tuning; see Threshold.
const (
	MinSamples    = 3                // fewer durations than this: no adaptation
	ExtendFactor  = 2                // a slow test's threshold: 2 × p95 + ExtendMargin
	ExtendMargin  = 10 * time.Second //
	ShortenFactor = 10               // a fast test's threshold: 10 × p95, at least Floor
	Floor         = 5 * time.Second  // never lower a threshold below this
)
