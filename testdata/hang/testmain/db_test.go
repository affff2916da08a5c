package db

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The docker-compose setup touches this file once Postgres accepts connections.
	if err := WaitReady("testdata/postgres.ready"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestPing(t *testing.T) {
	if !Ping() {
		t.Fatal("no database")
	}
}
