package stackparse

import "strings"

// splitFunc splits a function name as printed in a traceback into its
// import path and the rest. The package ends at the first '.' after the
// last '/', except that:
//   - a last path element with dots is escaped as %2e in symbol names
//     ("gopkg.in/yaml%2ev3.Unmarshal"); the escape is undone;
//   - an unescaped version suffix ("gopkg.in/yaml.v3.Unmarshal") stays with
//     the path;
//   - brackets of generic instantiations ("pkg.Map[...]") never split.
func splitFunc(fn string) (pkg, name string) {
	end := len(fn)
	if i := strings.IndexByte(fn, '['); i >= 0 {
		end = i // "[...]" or "[go.shape.int]" may hold dots and slashes
	}
	slash := strings.LastIndexByte(fn[:end], '/')
	dot := strings.IndexByte(fn[slash+1:end], '.')
	if dot < 0 {
		return "", fn // "panic", a builtin
	}
	dot += slash + 1
	// gopkg.in/yaml.v3.F: a ".vN" element right after the package name.
	if rest := fn[dot+1 : end]; slash >= 0 && len(rest) > 2 && rest[0] == 'v' && isDigit(rest[1]) {
		j := 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		if j < len(rest) && rest[j] == '.' {
			dot += 1 + j
		}
	}
	pkg, name = fn[:dot], fn[dot+1:]
	if strings.Contains(pkg, "%") {
		pkg = strings.ReplaceAll(pkg, "%2e", ".")
	}
	return pkg, name
}

// Package returns the import path of the frame's function:
// "example.com/bank" for "example.com/bank.(*Account).Lock", "main" for
// "main.main", "" for the builtin "panic".
func (f Frame) Package() string {
	p, _ := splitFunc(f.Func)
	return p
}

// FuncName returns the function name without its package:
// "(*Account).Lock" for "example.com/bank.(*Account).Lock".
func (f Frame) FuncName() string {
	_, n := splitFunc(f.Func)
	return n
}

// IsStdlib reports whether the frame is in the standard library (runtime,
// testing, internal/... included), judged from the import path alone: its
// package's first path element has no dot and the package is not main,
// command-line-arguments (a test file or program named on the go command
// line) or a GOPATH-mode local package ("_/home/u/x"). A user module whose
// path has no dot ("mycorp/platform") is misjudged: where the dump shows
// where the standard library lives, use IsStdlibIn with Dump.GOROOT.
func (f Frame) IsStdlib() bool {
	return f.IsStdlibIn("")
}

// IsStdlibIn is IsStdlib for a dump whose standard library sources are
// under goroot (Dump.GOROOT, e.g. "/usr/local/go"). A frame whose file is
// absolute is in the standard library when the file is under goroot/src/
// or under a toolchain of the module cache (".../golang.org/toolchain@v0.0.1-go1.22.1.linux-amd64/src/"),
// and in user code otherwise, whatever its import path. Frames without an
// absolute file (-trimpath builds, profiles) are judged by import path
// as IsStdlib does.
func (f Frame) IsStdlibIn(goroot string) bool {
	p := f.Package()
	if p == "" {
		return true // builtins: panic
	}
	if p == "main" || p == "command-line-arguments" || strings.HasPrefix(p, "_/") {
		return false
	}
	if isAbsFile(f.File) {
		if i := strings.Index(f.File, "/golang.org/toolchain@"); i >= 0 && strings.Contains(f.File[i:], "/src/") {
			return true
		}
		if goroot != "" {
			return len(f.File) > len(goroot)+5 && strings.HasPrefix(f.File, goroot) && f.File[len(goroot):len(goroot)+5] == "/src/"
		}
	}
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// isAbsFile reports an absolute file name as tracebacks print it: "/x" or,
// on Windows, "C:/x" (tracebacks use forward slashes there too).
func isAbsFile(file string) bool {
	if file == "" {
		return false
	}
	if file[0] == '/' {
		return true
	}
	return len(file) > 2 && file[1] == ':' && (file[2] == '/' || file[2] == '\\')
}

// findGOROOT returns the directory that holds the standard library's
// sources, as the frames of package runtime or testing show it
// ("/usr/local/go" for "/usr/local/go/src/runtime/proc.go"), or "" if
// none of the frames tells (-trimpath builds print "runtime/proc.go").
func findGOROOT(frames []Frame, created *Frame) string {
	try := func(f *Frame) string {
		var dir string
		switch {
		case strings.HasPrefix(f.Func, "runtime."):
			dir = "/src/runtime/"
		case strings.HasPrefix(f.Func, "testing."):
			dir = "/src/testing/"
		default:
			return ""
		}
		if !isAbsFile(f.File) {
			return ""
		}
		if i := strings.LastIndex(f.File, dir); i > 0 && strings.IndexByte(f.File[i+len(dir):], '/') < 0 {
			return f.File[:i]
		}
		return ""
	}
	for i := range frames {
		if r := try(&frames[i]); r != "" {
			return r
		}
	}
	if created != nil {
		return try(created)
	}
	return ""
}

// IsRuntime reports whether the frame is in the Go runtime itself (runtime,
// its internal packages, internal/runtime/..., or a builtin such as panic),
// not in packages that merely live under runtime/ like runtime/pprof.
func (f Frame) IsRuntime() bool {
	p := f.Package()
	return p == "" || p == "runtime" ||
		strings.HasPrefix(p, "runtime/internal/") ||
		strings.HasPrefix(p, "internal/runtime/")
}

// Location returns "file:line" with the file's base name, or "" when the
// frame has no file.
func (f Frame) Location() string {
	if f.File == "" {
		return ""
	}
	file := f.File
	if i := strings.LastIndexAny(file, `/\`); i >= 0 {
		file = file[i+1:]
	}
	return file + ":" + itoa(int64(f.Line))
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// inModules reports whether pkg is one of the module paths or below one.
func inModules(pkg string, modules []string) bool {
	for _, m := range modules {
		m = strings.TrimSuffix(m, "/")
		if pkg == m || strings.HasPrefix(pkg, m+"/") {
			return true
		}
	}
	return false
}

// isTestMain reports frames of the generated main package of a test binary.
func isTestMain(f Frame) bool {
	return strings.HasSuffix(f.File, "_testmain.go")
}

// UserFrame returns the innermost frame in user code: with modules (module
// path prefixes such as "example.com/bank"), the innermost frame whose
// package is in one of them; otherwise, or if none is, the innermost frame
// outside the standard library. The generated main of a test binary
// (_testmain.go) is never a user frame. It returns false if the stack has
// no user frame. It judges the standard library as IsStdlib does; prefer
// UserFrameIn with the dump's GOROOT.
func (g *Goroutine) UserFrame(modules ...string) (Frame, bool) {
	return g.UserFrameIn("", modules...)
}

// UserFrameIn is UserFrame with the standard library judged by
// Frame.IsStdlibIn(goroot).
func (g *Goroutine) UserFrameIn(goroot string, modules ...string) (Frame, bool) {
	if len(modules) > 0 {
		for _, f := range g.Frames {
			if inModules(f.Package(), modules) && !isTestMain(f) {
				return f, true
			}
		}
	}
	for _, f := range g.Frames {
		if !f.IsStdlibIn(goroot) && !isTestMain(f) {
			return f, true
		}
	}
	return Frame{}, false
}
