package pytest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// libraryDirs are path components that mark a frame as not the user's:
// installed packages, and pytest's own machinery when it runs from a
// checkout.
var libraryDirs = []string{"site-packages", "dist-packages", "_pytest", "pytest", "pluggy", "xdist", "execnet"}

// stdlibDir matches the directory of Python's standard library
// (".../lib/python3.11/...", ".../lib64/python3.12/...").
var stdlibDir = regexp.MustCompile(`/lib(64)?/python\d+(\.\d+)?t?/`)

// userFrame reports whether a frame is in the user's code: not the
// standard library, not an installed package, not pytest, pluggy, xdist,
// execnet or hangdog's plugin, not code without a file ("<string>",
// "<frozen runpy>").
func userFrame(file, rootdir string) bool {
	if file == "" || file == "???" || strings.HasPrefix(file, "<") {
		return false
	}
	if strings.HasPrefix(filepath.Base(file), "hangdog_") {
		return false
	}
	rel, under := relTo(file, rootdir)
	check := file
	if under {
		check = rel
	} else if stdlibDir.MatchString(file) {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(check), "/") {
		for _, d := range libraryDirs {
			if part == d {
				return false
			}
		}
	}
	return true
}

// relTo returns file relative to rootdir when it is below it.
func relTo(file, rootdir string) (string, bool) {
	if rootdir == "" || !filepath.IsAbs(file) {
		return file, false
	}
	rel, err := filepath.Rel(rootdir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return file, false
	}
	return rel, true
}

// innermostUser returns the index of the innermost frame in the user's
// code, -1 when there is none.
func innermostUser(frames []Frame, rootdir string) int {
	for i, f := range frames {
		if userFrame(f.File, rootdir) {
			return i
		}
	}
	return -1
}

// location formats a frame as file:line, relative to rootdir.
func location(f Frame, rootdir string) string {
	rel, _ := relTo(f.File, rootdir)
	return fmt.Sprintf("%s:%d", rel, f.Line)
}

// sources reads lines of the user's source files, once per file.
type sources struct {
	files map[string][]string
}

// line returns the source text of file:n, trimmed; "" when unknown.
func (s *sources) line(file string, n int) string {
	if s.files == nil {
		s.files = map[string][]string{}
	}
	lines, ok := s.files[file]
	if !ok {
		if f, err := os.Open(file); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			f.Close()
		}
		s.files[file] = lines
	}
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}

// lockExpr returns the lock a source line acquires ("with registry:",
// "registry.acquire()"), or "".
var lockLine = regexp.MustCompile(`^(?:with\s+([\w.\[\]]+)\s*(?:as\s+\w+\s*)?:|([\w.\[\]]+)\.acquire\()`)

func lockExpr(src string) string {
	m := lockLine.FindStringSubmatch(src)
	if m == nil {
		return ""
	}
	if m[1] != "" {
		return m[1]
	}
	return m[2]
}

// stdFrame reports whether f is function fn of the standard module file
// base ("threading.py"), whatever the interpreter's path.
func stdFrame(f Frame, base string, fns ...string) bool {
	if filepath.Base(f.File) != base || !stdlibDir.MatchString(f.File) {
		return false
	}
	for _, fn := range fns {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// enclosingLocks returns the locks held at file:n by the with statements
// around that line in its function: each "with X:" above it, indented
// less than the lines between, up to the def that opens the function.
func (s *sources) enclosingLocks(file string, n int) []string {
	s.line(file, n) // loads the file
	lines := s.files[file]
	if n < 1 || n > len(lines) {
		return nil
	}
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " \t")) }
	cur := indent(lines[n-1])
	var held []string
	for i := n - 2; i >= 0 && cur > 0; i-- {
		l := lines[i]
		if strings.TrimSpace(l) == "" || indent(l) >= cur {
			continue
		}
		cur = indent(l)
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async def ") {
			break
		}
		if x := lockExpr(t); x != "" {
			held = append(held, x)
		}
	}
	return held
}

// heldBy returns the locks the user's frames of a stack hold through with
// statements, innermost first.
func (s *sources) heldBy(frames []Frame, rootdir string) []string {
	var held []string
	for _, f := range frames {
		if userFrame(f.File, rootdir) {
			held = append(held, s.enclosingLocks(f.File, f.Line)...)
		}
	}
	return held
}

// fixtureOf returns the fixture function a stack runs in: the user's frame
// called directly by pytest's fixture machinery (_pytest/fixtures.py), ""
// when none.
func fixtureOf(frames []Frame, rootdir string) string {
	for i := 0; i+1 < len(frames); i++ {
		next := frames[i+1]
		if userFrame(frames[i].File, rootdir) && filepath.Base(next.File) == "fixtures.py" &&
			filepath.Base(filepath.Dir(next.File)) == "_pytest" {
			return frames[i].Func
		}
	}
	return ""
}
