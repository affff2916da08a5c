package watchdog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReportRunnerAndUnit: the JSON report names its runner, and every hang
// its unit (for go test, the package).
func TestReportRunnerAndUnit(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"chanrecv", "multipkg", "parallel"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("..", "testdata", "streams", "go1.26", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			run, err := Run(context.Background(), Config{Input: f, Offline: true, ArtifactsDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			rep := run.Report
			if rep.Runner != "go" {
				t.Errorf("runner %q, want go", rep.Runner)
			}
			if len(rep.Hangs) == 0 {
				t.Fatalf("no hangs (reason %q)", rep.Reason)
			}
			for _, h := range append(rep.Hangs, rep.Slow...) {
				if h.Unit == "" || h.Unit != h.Package {
					t.Errorf("hang %s %s: unit %q, want the package", h.Package, h.Test, h.Unit)
				}
			}
		})
	}
	run, _ := Run(context.Background(), Config{Stall: -1})
	if run.Report.Runner != "go" || run.Report.Reason != "error" {
		t.Errorf("a bad config's report: runner %q, reason %q", run.Report.Runner, run.Report.Reason)
	}
}
