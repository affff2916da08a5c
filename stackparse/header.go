package stackparse

// This file parses goroutine header lines: the id, the state and its
// qualifiers, and pprof labels in either of their forms.

import (
	"bytes"
	"strconv"
	"strings"
)

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

// header is a parsed goroutine header line.
type header struct {
	id       int64
	state    string
	stateB   []byte // instead of state, when the header held only a state (points into the line)
	minutes  int
	locked   bool
	bubble   int64
	durable  bool
	leaked   bool
	labels   map[string]string
	hasLabel bool
}

// parseHeader parses
//
//	goroutine 7 [chan receive]:
//	goroutine 7 gp=0xc000102000 m=nil [sync.Mutex.Lock, 3 minutes]:
//	goroutine 1 gp=0xc000002380 m=0 mp=0x5c1a40 [running, locked to thread]:
//	goroutine 9 [select (durable), synctest bubble 3]:
//	goroutine 4 [chan receive labels:{"k": "v"}]:
//	goroutine 4 [chan receive] {k: v, "k 2": "v 2"}:
func parseHeader(line []byte) (header, bool) {
	var h header
	rest, ok := bytes.CutPrefix(line, []byte("goroutine "))
	if !ok {
		return h, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n > 19 || n == len(rest) || rest[n] != ' ' {
		return h, false
	}
	var id int64
	for _, c := range rest[:n] {
		if id > (1<<63-1-9)/10 {
			return h, false // overflows int64
		}
		id = id*10 + int64(c-'0')
	}
	h.id = id
	rest = trimRightBlank(rest[n:])
	open := bytes.IndexByte(rest, '[')
	closeAt, lab := headerLabels(rest)
	if open < 0 || closeAt < 0 || open > closeAt {
		return h, false
	}
	if lab != nil {
		h.labels = parseLabels(string(lab))
		h.hasLabel = true
	}
	// Between the id and "[" only "gp=", "m=", "mp=" fields may appear.
	if len(trimLeftBlank(rest[:open])) > 0 {
		for _, f := range bytes.Fields(rest[:open]) {
			if !bytes.HasPrefix(f, []byte("gp=")) && !bytes.HasPrefix(f, []byte("m=")) && !bytes.HasPrefix(f, []byte("mp=")) {
				return h, false
			}
		}
	}
	bb := rest[open+1 : closeAt]
	if bytes.IndexByte(bb, ',') < 0 && bytes.IndexByte(bb, '(') < 0 && bytes.IndexByte(bb, ':') < 0 {
		// The usual "[chan receive]": nothing else to find.
		h.stateB = bb
		return h, true
	}
	body := string(bb)
	if i := strings.Index(body, " labels:{"); i >= 0 {
		h.labels = parseLabels(body[i+len(" labels:"):])
		h.hasLabel = true
		body = body[:i]
	} else if strings.HasPrefix(body, "labels:{") {
		h.labels = parseLabels(body[len("labels:"):])
		h.hasLabel = true
		body = ""
	}
	parts := strings.Split(body, ", ")
	st := parts[0]
	for changed := true; changed; {
		changed = false
		for _, suf := range [...]string{" (leaked)", " (scan)", " (durable)"} {
			if v, ok := strings.CutSuffix(st, suf); ok {
				st = v
				changed = true
				switch suf {
				case " (leaked)":
					h.leaked = true
				case " (durable)":
					h.durable = true
				}
			}
		}
	}
	h.state = st
	for _, p := range parts[1:] {
		switch {
		case p == "locked to thread":
			h.locked = true
		case strings.HasSuffix(p, " minutes") || strings.HasSuffix(p, " minute"):
			m, _ := strconv.Atoi(p[:strings.IndexByte(p, ' ')])
			h.minutes = m
		case strings.HasPrefix(p, "synctest bubble "):
			b, _ := strconv.ParseInt(p[len("synctest bubble "):], 10, 64)
			h.bubble = b
		}
	}
	return h, true
}

// parseLabels parses a label set as printed in headers
// ({"k": "v", "k2": "v2"}) and in pprof debug=1 profiles ({"k":"v"}). Both
// escaped ("\"") and raw quotes inside values are accepted: a string ends at
// a quote followed by ':', ',' or '}'.
func parseLabels(s string) map[string]string {
	m := make(map[string]string)
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "{")
	for {
		s = strings.TrimLeft(s, " ,")
		if s == "" || s[0] == '}' {
			return m
		}
		k, rest, ok := cutLabelToken(s)
		if !ok {
			return m
		}
		rest = strings.TrimLeft(rest, " ")
		rest, ok = strings.CutPrefix(rest, ":")
		if !ok {
			return m
		}
		rest = strings.TrimLeft(rest, " ")
		v, rest2, ok := cutLabelToken(rest)
		if !ok {
			return m
		}
		m[k] = v
		s = rest2
	}
}

// cutQuoted reads a quoted string at the start of s.
func cutQuoted(s string) (val, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			after := strings.TrimLeft(s[i+1:], " ")
			if after != "" && after[0] != ':' && after[0] != ',' && after[0] != '}' {
				continue
			}
			raw := s[:i+1]
			if u, err := strconv.Unquote(raw); err == nil {
				return u, s[i+1:], true
			}
			return strings.ReplaceAll(raw[1:len(raw)-1], `\"`, `"`), s[i+1:], true
		}
	}
	return "", s, false
}
