//go:build !unix

package main

import (
	"io"
	"os"
)

func ttyWidth(f *os.File) int { return 0 }

// isTerminal reports whether w is a console.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
