package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// flagUsages lists the flags of fs for --help: pflag's own listing
// decorates boolean flags with "[=true|false]", which helps nobody.
func flagUsages(fs *pflag.FlagSet) string {
	type row struct{ name, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		name := "    --" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		switch {
		case f.Value.Type() == "bool":
		case f.NoOptDefVal != "":
			name += "[=" + varname + "]"
		case varname != "":
			name += " " + varname
		}
		if d := f.DefValue; d != "" && d != "false" && d != "[]" && f.Value.Type() != "bool" && !strings.Contains(usage, "default") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		rows = append(rows, row{name, usage})
		width = max(width, len(name))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r.name, r.usage)
	}
	return b.String()
}
