// Package withmain has a TestMain.
package withmain

import (
	"os"
	"testing"
)

var ready bool

func TestMain(m *testing.M) {
	ready = true
	os.Exit(m.Run())
}

func TestReady(t *testing.T) {
	if !ready {
		t.Fatal("TestMain did not run")
	}
}

func TestMainHang(t *testing.T) {
	select {}
}
