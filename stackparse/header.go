package stackparse

import "bytes"

// headerLabels finds where the bracketed state of a goroutine header ends
// and the label set that follows it, if any. rest is the header after the
// goroutine id, without trailing blanks. Go 1.26 with
// GODEBUG=tracebacklabels=1 prints labels inside the brackets
// ("[chan receive labels:{"k": "v"}]:"); Go 1.27, by default for modules
// whose go line says 1.27, prints them after the brackets, quoting a key or
// value only where it holds other characters than letters, digits, '.',
// '/' and '_' ("[chan receive] {k: v, "k 2": "a b"}:"). It returns the
// index of the closing ']' (-1 if the header does not end in either
// form) and the "{...}" text of Go 1.27 labels (nil if none).
func headerLabels(rest []byte) (closeAt int, labels []byte) {
	if bytes.HasSuffix(rest, []byte("]:")) {
		return len(rest) - 2, nil
	}
	if !bytes.HasSuffix(rest, []byte("}:")) {
		return -1, nil
	}
	// No wait reason holds "] {"; a quoted label may, so take the first.
	i := bytes.Index(rest, []byte("] {"))
	if i < 0 {
		return -1, nil
	}
	return i, rest[i+2 : len(rest)-1]
}

// cutLabelToken reads a label key or value at the start of s: quoted, or
// (Go 1.27) bare, made of letters, digits, '.', '/' and '_' (possibly
// empty, for an empty value).
func cutLabelToken(s string) (val, rest string, ok bool) {
	if s != "" && s[0] == '"' {
		return cutQuoted(s)
	}
	i := 0
	for i < len(s) && isBareLabelByte(s[i]) {
		i++
	}
	if i < len(s) && s[i] != ':' && s[i] != ',' && s[i] != '}' && s[i] != ' ' {
		return "", s, false
	}
	return s[:i], s[i:], true
}

func isBareLabelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '/' || c == '_' || c >= 0x80
}
