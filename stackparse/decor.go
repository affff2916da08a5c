package stackparse

import "bytes"

// This file recognises what other programs add to the lines of a dump on
// its way into a log: timestamps and journald prefixes found line by line,
// the GitHub web log's line links, a markdown backtick, and location lines
// that lost their indentation. Like lines.go, the functions look at one line
// and keep no reference to it.

// logLinkLen returns the length of a line link of the GitHub Actions web
// log at the start of line, "[16](https://github.com/o/r/actions/runs/1/job/2#step:6:16)",
// or 0. Copying a log from the web page puts one before or between the
// lines; it is never part of a dump.
func logLinkLen(line []byte) int {
	if len(line) < 8 || line[0] != '[' || !isDigit(line[1]) {
		return 0
	}
	i := 2
	for i < len(line) && isDigit(line[i]) {
		i++
	}
	if !bytes.HasPrefix(line[i:], []byte("](http")) {
		return 0
	}
	end := bytes.IndexByte(line[i:], ')')
	if end < 0 {
		return 0
	}
	return i + end + 1
}

// detectPrefix returns the length of a per-line log prefix at the start of
// line, found from this line alone, or 0:
//
//	2024-01-02T03:04:05.6367390Z …   (a timestamp: digits and - : . T Z + ,)
//	3.6367390Z …                     (the same, cut off)
//	[12:00:01] …                     (a bracketed clock)
//	Oct 21 17:57:00 host unit[123]: …  (journald)
//
//	  12: …                          (a line number)
//
// Several in a row ("  12: 2024-01-02T03:04:05Z Oct 21 …") are taken
// together. A timestamp must hold a separator, so that "3 @ 0x…" of a
// profile and other lines that begin with a number are not taken for one.
// A prefix includes the one blank that follows it.
func detectPrefix(line []byte) int {
	n := 0
	for k := 0; k < 3; k++ {
		m := detectOnePrefix(line[n:])
		if m == 0 {
			break
		}
		n += m
	}
	return n
}

func detectOnePrefix(line []byte) int {
	if len(line) < 3 {
		return 0
	}
	c := line[0]
	switch {
	case c == ' ':
		// A line number: "  12: ".
		i := 0
		for i < len(line) && line[i] == ' ' {
			i++
		}
		d := i
		for i < len(line) && isDigit(line[i]) {
			i++
		}
		if i == d || i-d > 9 || i+1 >= len(line) || line[i] != ':' || line[i+1] != ' ' {
			return 0
		}
		return i + 2
	case isDigit(c):
		i, sep := 0, false
		for i < len(line) {
			c := line[i]
			if isDigit(c) {
				i++
				continue
			}
			if c == '-' || c == ':' || c == '.' || c == 'T' || c == 'Z' || c == '+' || c == ',' {
				sep = true
				i++
				continue
			}
			break
		}
		if i < len(line) && line[i] == ':' && i+1 < len(line) && line[i+1] == ' ' && !sep {
			return i + 2 // a line number: "12: "
		}
		if !sep || i < 4 || i >= len(line) || !isSpace(line[i]) {
			return 0
		}
		return i + 1
	case c == '[':
		i, digit := 1, false
		for i < len(line) && line[i] != ']' {
			c := line[i]
			switch {
			case isDigit(c):
				digit = true
			case c == ':' || c == '.' || c == '-' || c == ' ' || c == 'T' || c == 'Z' || c == '+' || c == ',' || c == '/':
			default:
				return 0
			}
			i++
		}
		if !digit || i >= len(line) {
			return 0
		}
		i++ // ']'
		if i < len(line) && line[i] == ' ' {
			i++
		}
		return i
	case c >= 'A' && c <= 'S':
		return journalPrefixLen(line)
	}
	return 0
}

// journalPrefixLen returns the length of a journalctl prefix,
// "Oct 21 17:57:00 host unit[123]: " or "Oct  1 07:05:09 host unit: ", or 0.
func journalPrefixLen(line []byte) int {
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	if len(line) < 20 || line[3] != ' ' || bytes.Index([]byte(months), line[:3])%3 != 0 {
		return 0
	}
	i := 4
	if line[i] == ' ' {
		i++ // "Oct  1"
	}
	d := i
	for i < len(line) && isDigit(line[i]) {
		i++
	}
	if i == d || i-d > 2 || i >= len(line) || line[i] != ' ' {
		return 0
	}
	i++
	// hh:mm:ss
	if len(line) < i+9 || !isDigit(line[i]) || !isDigit(line[i+1]) || line[i+2] != ':' ||
		!isDigit(line[i+3]) || !isDigit(line[i+4]) || line[i+5] != ':' ||
		!isDigit(line[i+6]) || !isDigit(line[i+7]) || line[i+8] != ' ' {
		return 0
	}
	i += 9
	// host: no blank.
	h := i
	for i < len(line) && !isSpace(line[i]) {
		i++
	}
	if i == h || i >= len(line) {
		return 0
	}
	i++
	// identifier, optionally [pid], then ": ".
	end := bytes.Index(line[i:], []byte(": "))
	if end <= 0 || hasBlank(line[i:i+end]) {
		return 0
	}
	return i + end + 2
}

// isBareLocation reports whether a line that is not indented is the
// location of the call before it: a dump whose leading blanks were lost
// ("testing/testing.go:1700 +0x11f", "/src/main.go:12"). The file must
// end in ".go" or ".s".
func isBareLocation(line []byte) bool {
	if len(line) == 0 || isSpace(line[0]) || line[len(line)-1] == ')' || line[len(line)-1] == ':' {
		return false
	}
	fl, _, ok := parseFileLine(line)
	if !ok {
		return false
	}
	return bytes.HasSuffix(fl.file, []byte(".go")) || bytes.HasSuffix(fl.file, []byte(".s"))
}

// isCutLocation reports whether an indented line that is not a location is
// what is left of one cut off by a log (a path with no ":line"): it holds
// a path separator or ".go" and no parenthesis.
func isCutLocation(line []byte) bool {
	t := trimLeftBlank(line)
	if len(t) == 0 || bytes.IndexByte(t, '(') >= 0 || bytes.IndexByte(t, ')') >= 0 {
		return false
	}
	return bytes.IndexByte(t, '/') >= 0 || bytes.IndexByte(t, '\\') >= 0 || bytes.Contains(t, []byte(".go"))
}

// trimBackticks removes markdown backticks from the end of a line: a dump
// pasted as code ends in "```" or "`" when the fence was glued to its last
// line. No line of a goroutine dump ends in a backtick.
func trimBackticks(line []byte) []byte {
	for len(line) > 0 && line[len(line)-1] == '`' {
		line = line[:len(line)-1]
	}
	return line
}

// unindentedLine handles, in stFrames, stFile or stCreatedFile, a line
// that frameLine could not place because it lost its indentation or was
// cut: a location with no leading blank, "goroutine running on other
// thread; stack unavailable" with none, and an indented location cut
// before its ":line" (the frame then has no file, and the location shown
// is that of another frame; see Goroutine.LocationFrame). It returns false
// for any other line.
func (s *scanner) unindentedLine(line []byte) bool {
	if s.g == nil {
		return false
	}
	if isSpace(line[0]) {
		if s.st != stFile && s.st != stCreatedFile || !isCutLocation(line) {
			return false
		}
		if _, _, ok := parseFileLine(line); ok {
			return false
		}
		s.st = stFrames
		return true
	}
	if (s.st == stFile || s.st == stCreatedFile) && isBareLocation(line) {
		return s.locationLine(line)
	}
	if bytes.HasPrefix(line, []byte("goroutine running on other thread; stack unavailable")) {
		s.g.StackUnavailable = true
		s.st = stFrames
		return true
	}
	return false
}

// LinePrefixLen returns the length of what a log put in front of a line
// of a program's output — a timestamp (also one cut short), a bracketed
// clock, a line number, a journald prefix, several of these in a row — as
// the parser strips it from a dump's lines; 0 when there is none. It lets
// readers of the rest of a log (the "=== RUN" and result lines around a
// dump) see the lines as the program printed them.
func LinePrefixLen(line []byte) int { return detectPrefix(line) }
