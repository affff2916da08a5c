// Package xonly_test is a directory with external test files only.
package xonly_test

import (
	"testing"

	"example.com/plain"
)

func TestXFast(t *testing.T) {}

func TestXHang(t *testing.T) {
	plain.WaitForever(make(chan int))
}
