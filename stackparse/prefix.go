package stackparse

// prefix strips a per-line log prefix (CI timestamps, clocks, line numbers)
// from the lines of a dump. It is learnt from the text found before the
// line that started the dump, e.g. "2024-05-01T10:00:00.1234567Z " before
// "panic: test timed out after 3s", and matched by shape rather than by
// bytes, because timestamps change from line to line: a run of digits in
// the learnt prefix matches any run of digits, a run of spaces any run of at
// least one space (or none at the start of the line), and every other byte
// itself. A line that does not match is used as it is.
type prefix struct {
	pat []byte
}

func (p *prefix) set(b []byte) { p.pat = append(p.pat[:0], b...) }
func (p *prefix) clear()       { p.pat = p.pat[:0] }
func (p *prefix) active() bool { return len(p.pat) > 0 }

// strip returns line without the prefix, or line itself if it does not
// start with something of the prefix's shape.
func (p *prefix) strip(line []byte) []byte {
	if len(p.pat) == 0 {
		return line
	}
	if n := p.match(line); n >= 0 {
		return line[n:]
	}
	return line
}

// match returns the length of the prefix of line that has the learnt
// shape, or -1.
func (p *prefix) match(line []byte) int {
	i, j := 0, 0 // i in pat, j in line
	for i < len(p.pat) {
		c := p.pat[i]
		switch {
		case isDigit(c):
			for i < len(p.pat) && isDigit(p.pat[i]) {
				i++
			}
			if j >= len(line) || !isDigit(line[j]) {
				return -1
			}
			for j < len(line) && isDigit(line[j]) {
				j++
			}
		case c == ' ':
			start := i
			for i < len(p.pat) && p.pat[i] == ' ' {
				i++
			}
			if start == 0 {
				for j < len(line) && line[j] == ' ' {
					j++
				}
				break
			}
			// Inside the prefix, take as many spaces as the prefix had
			// (at least one), so that an indented line whose tab was
			// turned into spaces keeps its indentation.
			n := 0
			for n < i-start && j < len(line) && line[j] == ' ' {
				j++
				n++
			}
			if n == 0 {
				return -1
			}
		default:
			if j >= len(line) || line[j] != c {
				return -1
			}
			i++
			j++
		}
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// stripPrefix removes the line prefix from a line inside a dump. Prefixes
// are found line by line: when the learnt one does not match (it was
// learnt from a first line whose timestamp was cut, or the dump started
// without one), a prefix of a known shape found on this line alone (see
// detectPrefix) is stripped and learnt instead.
func (s *scanner) stripPrefix(raw []byte) []byte {
	if s.pfx.active() {
		if n := s.pfx.match(raw); n >= 0 {
			return raw[n:]
		}
	}
	if len(raw) > 0 {
		if c := raw[0]; isDigit(c) || c == '[' || c == ' ' || c >= 'A' && c <= 'S' {
			if n := detectPrefix(raw); n > 0 {
				s.pfx.set(raw[:n])
				return raw[n:]
			}
		}
	}
	return raw
}
