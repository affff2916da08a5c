//go:build !linux

package forensics

import (
	"errors"
	"fmt"
	"runtime"
)

// missing says what this OS lacks.
const missing = "no /proc: threads, open files, sockets and file locks are not collected"

// Supported reports whether this OS gives the full snapshot: only Linux does.
func Supported() (full bool, why string) { return false, missing }

// details has nothing to add without /proc: the snapshot keeps the tree.
func (c *collector) details() error {
	return fmt.Errorf("forensics: collect on %s: %s: %w", runtime.GOOS, missing, errors.ErrUnsupported)
}

// PortOwner needs /proc/net/tcp; see the Linux version.
func PortOwner(port int) ([]int, error) {
	return nil, fmt.Errorf("forensics: owner of port %d on %s: no /proc/net/tcp: %w", port, runtime.GOOS, errors.ErrUnsupported)
}
