package main

import (
	"io"
	"os"
	"strconv"
)

// terminalWidth returns the width of the terminal w, from the terminal
// itself where the OS tells, else $COLUMNS, else 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := ttyWidth(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}
