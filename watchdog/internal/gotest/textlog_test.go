package gotest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTextLogTimes: a plain log's result lines are read with the times of
// their timestamp prefixes (a test started its elapsed time before its
// result line), and odd result lines (a trailing tab, no elapsed time, no
// package) are read without a panic.
func TestTextLogTimes(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl := &TextLog{f: f, record: true}
	for _, l := range []string{
		"2024-05-01T10:00:00.0000000Z === RUN   TestA",
		"2024-05-01T10:00:01.5000000Z --- PASS: TestA (1.50s)",
		"2024-05-01T10:00:02.0000000Z ok  \texample.com/a\t2.000s",
		"2024-05-01T10:00:03.0000000Z ok  \texample.com/b\t",
		"2024-05-01T10:00:04.0000000Z FAIL\t",
		"2024-05-01T10:00:05.0000000Z ok  \texample.com/c\t(cached)",
	} {
		tl.write([]byte(l+"\n"), true)
	}
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if tl.stamps != 6 || !tl.dated || !tl.firstStamp.Equal(t0) || !tl.lastStamp.Equal(t0.Add(5*time.Second)) {
		t.Errorf("stamps %d, dated %v, first %v, last %v", tl.stamps, tl.dated, tl.firstStamp, tl.lastStamp)
	}
	if len(tl.tests) != 1 || !tl.tests[0].Start.Equal(t0) || tl.tests[0].Package != "example.com/a" {
		t.Errorf("tests %+v", tl.tests)
	}
	if len(tl.packages) != 4 || !tl.packages[0].Start.Equal(t0) || !tl.packages[0].End.Equal(t0.Add(2*time.Second)) || tl.packages[0].ElapsedSeconds != 2 {
		t.Errorf("packages %+v", tl.packages)
	}

	// A time of day without a date: a duration, no start; past midnight
	// counts on.
	tl = &TextLog{f: f}
	for _, l := range []string{"[23:59:59] === RUN   TestA", "[00:00:02] --- PASS: TestA (3.00s)"} {
		tl.write([]byte(l+"\n"), true)
	}
	if tl.dated || tl.lastStamp.Sub(tl.firstStamp) != 3*time.Second {
		t.Errorf("dated %v, %v to %v", tl.dated, tl.firstStamp, tl.lastStamp)
	}
}
