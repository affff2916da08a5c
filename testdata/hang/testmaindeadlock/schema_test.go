package schema

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	done := make(chan error)
	go Migrate("testdata/migrations", done)
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestTables(t *testing.T) {}
