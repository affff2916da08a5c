package engine

// This file names and writes the files of a capture in the artifacts
// directory.

import (
	"fmt"
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
