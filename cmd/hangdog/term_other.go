//go:build !unix

package main

import "os"

func ttyWidth(f *os.File) int { return 0 }
