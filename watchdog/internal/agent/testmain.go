package agent

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
)

// hasTestMain reports whether the package's test files (as the overlay
// has them) declare a TestMain function. Files that cannot be read or
// parsed count as having none: go test will report them.
func hasTestMain(lp listedPackage, replace map[string]string) bool {
	for _, name := range append(append([]string(nil), lp.TestGoFiles...), lp.XTestGoFiles...) {
		path := filepath.Join(lp.Dir, name)
		if r, ok := replace[path]; ok {
			if r == "" {
				continue // deleted by the overlay
			}
			path = r
		}
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte("TestMain")) {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, data, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "TestMain" {
				return true
			}
		}
	}
	return false
}
