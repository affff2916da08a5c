package agent

import "strings"

// buildFlags are cmd/go's build flags: true when the flag takes a value.
// -C is handled apart (it must come first).
var buildFlags = map[string]bool{
	"p": true, "asmflags": true, "buildmode": true, "compiler": true,
	"gccgoflags": true, "gcflags": true, "installsuffix": true, "ldflags": true,
	"mod": true, "modfile": true, "overlay": true, "pgo": true, "pkgdir": true,
	"tags": true, "toolexec": true, "covermode": true, "coverpkg": true,
	"a": false, "n": false, "race": false, "msan": false, "asan": false,
	"cover": false, "v": false, "work": false, "x": false, "linkshared": false,
	"modcacherw": false, "trimpath": false, "buildvcs": false,
}

// notForList are build flags not repeated for go list: they print, force
// rebuilds, or (-overlay) are passed separately.
var notForList = map[string]bool{"a": true, "n": true, "v": true, "work": true, "x": true, "overlay": true}

// testFlags are the other flags go test knows: true when the flag takes a
// value. Test binary flags may also be written -test.X.
var testFlags = map[string]bool{
	"c": false, "i": false, "json": false, "exec": true, "o": true, "vet": true,
	"bench": true, "benchmem": false, "benchtime": true, "blockprofile": true,
	"blockprofilerate": true, "count": true, "coverprofile": true, "cpu": true,
	"cpuprofile": true, "failfast": false, "fullpath": false, "fuzz": true,
	"fuzzcachedir": true, "fuzzminimizetime": true, "fuzztime": true,
	"list": true, "memprofile": true, "memprofilerate": true,
	"mutexprofile": true, "mutexprofilefraction": true, "outputdir": true,
	"parallel": true, "run": true, "short": false, "shuffle": true,
	"skip": true, "timeout": true, "trace": true, "artifacts": false,
}

// goTestArgs is a user's `go test` command line (without "test") split the
// way cmd/go's testFlags splits it.
type goTestArgs struct {
	chdir     string   // value of a leading -C, "" if none
	chdirLen  int      // how many arguments the -C took (0, 1 or 2)
	patterns  []string // package patterns
	listFlags []string // build flags to repeat for go list
	overlay   string   // the last -overlay value, "" if none
	overlayAt [][2]int // [index, count] of every -overlay flag
}

// parseGoTestArgs splits args. Package patterns are the non-flag arguments
// of the first run of them; a non-flag argument after a flag go test does
// not know is that flag's value or belongs to the test binary, as in
// cmd/go. Everything from -args or "--" on belongs to the test binary.
func parseGoTestArgs(args []string) goTestArgs {
	var g goTestArgs
	i := 0
	if len(args) > 0 {
		if v, ok := strings.CutPrefix(args[0], "-C="); ok {
			g.chdir, g.chdirLen, i = v, 1, 1
		} else if (args[0] == "-C" || args[0] == "--C") && len(args) > 1 {
			g.chdir, g.chdirLen, i = args[1], 2, 2
		}
	}
	pkgsDone, inPkgs := false, false
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if pkgsDone && !inPkgs {
				break
			}
			inPkgs, pkgsDone = true, true
			g.patterns = append(g.patterns, a)
			continue
		}
		if inPkgs {
			inPkgs = false
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		if name == "args" {
			break
		}
		start := i
		takesValue, isBuild := buildFlags[name]
		if !isBuild {
			var known bool
			takesValue, known = testFlags[strings.TrimPrefix(name, "test.")]
			if !known {
				// Unknown: it ends the package list, and a non-flag
				// argument right after it is taken as its value.
				pkgsDone = true
				takesValue = true
				if !hasValue && i+1 < len(args) && strings.HasPrefix(args[i+1], "-") {
					takesValue = false
				}
			}
		}
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		if !isBuild {
			continue
		}
		if name == "overlay" {
			g.overlay = value
			g.overlayAt = append(g.overlayAt, [2]int{start, i - start + 1})
			continue
		}
		if !notForList[name] {
			g.listFlags = append(g.listFlags, args[start:i+1]...)
		}
	}
	return g
}

// withOverlay returns args with every -overlay flag removed and
// -overlay=path added first (after a leading -C).
func (g goTestArgs) withOverlay(args []string, path string) []string {
	drop := map[int]bool{}
	for _, at := range g.overlayAt {
		for j := at[0]; j < at[0]+at[1]; j++ {
			drop[j] = true
		}
	}
	out := make([]string, 0, len(args)+1)
	out = append(out, args[:g.chdirLen]...)
	out = append(out, "-overlay="+path)
	for j := g.chdirLen; j < len(args); j++ {
		if !drop[j] {
			out = append(out, args[j])
		}
	}
	return out
}
