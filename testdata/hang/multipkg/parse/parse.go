// Package parse splits key=value lines. Part of fixture multipkg: passes fast.
package parse

import "strings"

// KV parses "k=v" into its key and value.
func KV(s string) (string, string, bool) {
	return strings.Cut(s, "=")
}
