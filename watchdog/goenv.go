package watchdog

// This file asks the go command about the module a run uses.

import (
	"path/filepath"
	"strings"

	"github.com/hangdog/hangdog/watchdog/internal/gotest"
	"github.com/hangdog/hangdog/watchdog/internal/history"
)

// defaultHistory is where --history without a file keeps the durations:
// under the user's cache directory, one file per module root and per set
// of flags that change test speed (-race, -cover, -msan, -asan).
func (e *engine) defaultHistory() (string, error) {
	dir := e.cfg.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	e.base = abs
	e.look.Dir = abs
	out, err := e.goList("list", "-m", "-f", "{{.Dir}}")
	root := abs
	if err == nil {
		if first, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); first != "" {
			root = first
		}
	}
	return history.DefaultPath(root, gotest.SpeedVariant(e.cfg.Args))
}
