package gotest

import "strings"

// valueFlags are the go test and build flags that take a value as
// the next argument when written without '='. Everything else starting
// with '-' is a boolean flag.
var valueFlags = map[string]bool{
	"C": true, "p": true, "asmflags": true, "buildmode": true, "compiler": true,
	"gccgoflags": true, "gcflags": true, "installsuffix": true, "ldflags": true,
	"mod": true, "modfile": true, "overlay": true, "pgo": true, "pkgdir": true,
	"tags": true, "toolexec": true, "covermode": true, "coverpkg": true,
	"coverprofile": true, "exec": true, "o": true, "vet": true, "bench": true,
	"benchtime": true, "blockprofile": true, "blockprofilerate": true,
	"count": true, "cpu": true, "cpuprofile": true, "fuzz": true,
	"fuzzcachedir": true, "fuzzminimizetime": true, "fuzztime": true,
	"list": true, "memprofile": true, "memprofilerate": true,
	"mutexprofile": true, "mutexprofilefraction": true, "outputdir": true,
	"parallel": true, "run": true, "skip": true, "shuffle": true,
	"timeout": true, "trace": true,
}

// TestArgs builds the arguments of `go test` from the user's: -json is
// added unless present, and ./... when no package is named. Arguments after
// -args belong to the test binary and are left alone.
func TestArgs(user []string) []string {
	hasJSON, hasPkg := false, false
	argsAt := len(user)
	for i := 0; i < len(user); i++ {
		a := user[i]
		if a == "-args" || a == "--args" {
			argsAt = i
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			hasPkg = true
			continue
		}
		name := strings.TrimLeft(a, "-")
		name = strings.TrimPrefix(name, "test.")
		val := ""
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val = k, v
		} else if valueFlags[name] {
			i++ // the value
			continue
		}
		if name == "json" && val != "false" {
			hasJSON = true
		}
	}
	out := make([]string, 0, len(user)+3)
	out = append(out, "test")
	if !hasJSON {
		out = append(out, "-json")
	}
	out = append(out, user[:argsAt]...)
	if !hasPkg {
		out = append(out, "./...")
	}
	return append(out, user[argsAt:]...)
}

// Verbose reports whether the user asked go test for -v output.
func Verbose(user []string) bool {
	for i := 0; i < len(user); i++ {
		a := user[i]
		if a == "-args" || a == "--args" {
			return false
		}
		switch strings.TrimPrefix(strings.TrimLeft(a, "-"), "test.") {
		case "v", "v=true", "v=1":
			return strings.HasPrefix(a, "-")
		}
		name := strings.TrimPrefix(strings.TrimLeft(a, "-"), "test.")
		if strings.HasPrefix(a, "-") && !strings.Contains(name, "=") && valueFlags[name] {
			i++
		}
	}
	return false
}
