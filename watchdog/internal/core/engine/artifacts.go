package engine

// This file names and writes the files of a capture in the artifacts
// directory.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// slug makes a package path usable in a file name.
func slug(pkg string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", ":", "_", " ", "_")
	return r.Replace(pkg)
}

func (e *engine) artifactPath(pkg, kind string) string {
	e.seq++
	return filepath.Join(e.artifacts, fmt.Sprintf("%s-%d.%s", slug(pkg), e.seq, kind))
}

// writeHangArtifacts writes the parsed report of hangs next to their dump.
func (e *engine) writeHangArtifacts(pkg string, hangs []*Hang) {
	e.mu.Lock()
	path := e.artifactPath(pkg, "hang.json")
	for _, h := range hangs {
		if h.Artifacts == nil {
			h.Artifacts = map[string]string{}
		}
		h.Artifacts["report"] = path
	}
	err := writeJSONFile(path, hangs)
	if err != nil {
		e.addWarning(err.Error())
	}
	e.mu.Unlock()
}

// makeArtifactsDir makes the run's artifacts directory: --artifacts, or a
// new private one under the OS temp dir (removed at the end when empty).
func (e *engine) makeArtifactsDir() error {
	if e.opts.ArtifactsDir == "" {
		d, err := os.MkdirTemp("", "hangdog-")
		if err != nil {
			return fmt.Errorf("artifacts directory: %w", err)
		}
		e.artifacts, e.madeDir = d, true
		return nil
	}
	d, err := filepath.Abs(e.opts.ArtifactsDir)
	if err != nil {
		return fmt.Errorf("artifacts directory: %w", err)
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return &OutputPathError{Flag: "--artifacts", Path: e.opts.ArtifactsDir, Err: errnoOf(err)}
	}
	e.artifacts = d
	return nil
}
