package core

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/hangdog/hangdog/"

// corePackages are the packages that make up hangdog's runner-neutral
// core (ARCHITECTURE.md). A package added to the core goes here.
var corePackages = []string{
	"watchdog/internal/core",
	"watchdog/internal/core/track",
	"watchdog/internal/core/policy",
	"watchdog/internal/core/engine",
	"watchdog/internal/core/coretest",
	"watchdog/internal/proc",
	"watchdog/internal/forensics",
	"watchdog/internal/history",
	"watchdog/internal/status",
	"watchdog/internal/junit",
	"watchdog/internal/ghactions",
	"watchdog/internal/htmlreport",
	"watchdog/report",
}

// adapterPackages are what only a runner adapter may import: the adapters
// themselves, and the Go-specific packages behind the go test adapter (the
// agent, the test2json decoder, the go test formatter, the goroutine-dump
// parser). A prefix also covers the packages below it.
var adapterPackages = []string{
	"watchdog/internal/gotest",
	"watchdog/internal/pytest",
	"watchdog/internal/agent",
	"watchdog/internal/testjson",
	"watchdog/internal/format",
	"stackparse",
}

// TestCoreImportsNoAdapter checks with go list (each package's Deps: what
// `go list -deps` lists) that no package of the core depends, directly or
// not, on an adapter or on anything only an adapter should know.
func TestCoreImportsNoAdapter(t *testing.T) {
	t.Parallel()
	args := []string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}
	for _, p := range corePackages {
		args = append(args, module+p)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(corePackages) {
		t.Fatalf("go list gave %d packages, want %d:\n%s", len(lines), len(corePackages), out)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		for _, dep := range f[1:] {
			if bad := adapterOf(dep); bad != "" {
				t.Errorf("core package %s depends on %s (%s is for adapters only)", f[0], dep, bad)
			}
		}
	}
}

// adapterOf returns the entry of adapterPackages that covers the import
// path dep, or "".
func adapterOf(dep string) string {
	rel, ok := strings.CutPrefix(dep, module)
	if !ok {
		return ""
	}
	for _, a := range adapterPackages {
		if rel == a || strings.HasPrefix(rel, a+"/") {
			return a
		}
	}
	return ""
}

func TestAdapterOf(t *testing.T) {
	t.Parallel()
	for dep, want := range map[string]string{
		module + "stackparse":                  "stackparse",
		module + "watchdog/internal/gotest":    "watchdog/internal/gotest",
		module + "watchdog/internal/pytest/x":  "watchdog/internal/pytest",
		module + "watchdog/internal/testjsonx": "",
		module + "watchdog/internal/proc":      "",
		"example.com/stackparse":               "",
	} {
		if got := adapterOf(dep); got != want {
			t.Errorf("adapterOf(%q) = %q, want %q", dep, got, want)
		}
	}
}
