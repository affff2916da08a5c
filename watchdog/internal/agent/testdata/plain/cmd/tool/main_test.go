package main

import (
	"testing"
	"time"
)

func TestAnswer(t *testing.T) {
	if answer() != 42 {
		t.Fatal("wrong answer")
	}
}

func TestToolHang(t *testing.T) {
	for {
		time.Sleep(time.Hour)
	}
}
