package testjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is the fast path for the flat objects test2json writes. It
// decodes exactly what it understands and gives up (decode returns false)
// on anything else, so that encoding/json decides: the result is always
// what json.Unmarshal into an Event would give. FuzzDecode checks that.
//
// It understands: the known keys spelled exactly as test2json spells them,
// string values with any escape (\uXXXX and surrogate pairs included),
// valid UTF-8, numbers for Elapsed, times in the RFC 3339 form test2json
// writes (UTC, "Z", up to 9 fractional digits), and unknown keys whose
// value is a string, a number, true, false or null. Everything else
// (nested values, null for a known key, keys that only match a field
// case-insensitively, invalid UTF-8, syntax errors) goes to encoding/json.
type decoder struct {
	intern  interner
	scratch []byte // unescaped string bytes
}

// decode decodes line into e (which must be zero) and reports whether it
// could; on false e is in an unspecified state.
func (d *decoder) decode(line []byte, e *Event) bool {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return skipWS(line, i+1) == len(line)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(line) && line[j] != '"' && line[j] != '\\' && line[j] >= 0x20 && line[j] < utf8.RuneSelf {
			j++
		}
		if j >= len(line) || line[j] != '"' {
			return false
		}
		key := line[i+1 : j]
		i = skipWS(line, j+1)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipWS(line, i+1)
		var ok bool
		switch string(key) {
		case "Time":
			i, ok = d.time(line, i, &e.Time)
		case "Action":
			var b []byte
			if b, i, ok = d.str(line, i); ok {
				e.Action = internAction(b, &d.intern)
			}
		case "Package":
			i, ok = d.internStr(line, i, &e.Package)
		case "Test":
			i, ok = d.internStr(line, i, &e.Test)
		case "Elapsed":
			i, ok = number(line, i, &e.Elapsed)
		case "Output":
			i, ok = d.plainStr(line, i, &e.Output)
		case "ImportPath":
			i, ok = d.internStr(line, i, &e.ImportPath)
		case "FailedBuild":
			i, ok = d.internStr(line, i, &e.FailedBuild)
		case "OutputType":
			i, ok = d.internStr(line, i, &e.OutputType)
		case "Key":
			i, ok = d.internStr(line, i, &e.Key)
		case "Value":
			i, ok = d.plainStr(line, i, &e.Value)
		case "Path":
			i, ok = d.plainStr(line, i, &e.Path)
		default:
			if foldsToField(key) {
				return false // encoding/json matches keys case-insensitively
			}
			i, ok = d.skipValue(line, i)
		}
		if !ok {
			return false
		}
		i = skipWS(line, i)
		if i >= len(line) {
			return false
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
			continue
		case '}':
			return skipWS(line, i+1) == len(line)
		}
		return false
	}
}

// fieldNames are the JSON keys of Event.
var fieldNames = [...]string{"Time", "Action", "Package", "Test", "Elapsed", "Output",
	"ImportPath", "FailedBuild", "OutputType", "Key", "Value", "Path"}

func foldsToField(key []byte) bool {
	for _, f := range fieldNames {
		if bytes.EqualFold(key, []byte(f)) {
			return true
		}
	}
	return false
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *decoder) internStr(b []byte, i int, dst *string) (int, bool) {
	s, next, ok := d.str(b, i)
	if ok {
		*dst = d.intern.bytes(s)
	}
	return next, ok
}

func (d *decoder) plainStr(b []byte, i int, dst *string) (int, bool) {
	s, next, ok := d.str(b, i)
	if ok {
		*dst = string(s)
	}
	return next, ok
}

// str decodes the JSON string at b[i]. The result aliases b or d.scratch
// and is valid until the next call.
func (d *decoder) str(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start := i + 1
	j := start
	ascii := true
	for j < len(b) {
		c := b[j]
		if c == '"' {
			if !ascii && !utf8.Valid(b[start:j]) {
				return nil, j, false // encoding/json replaces invalid bytes
			}
			return b[start:j], j + 1, true
		}
		if c == '\\' {
			return d.unescape(b, start, j)
		}
		if c < 0x20 {
			return nil, j, false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		j++
	}
	return nil, j, false
}

// unescape decodes a string with escapes; b[start:j] has none.
func (d *decoder) unescape(b []byte, start, j int) ([]byte, int, bool) {
	out := append(d.scratch[:0], b[start:j]...)
	if !utf8.Valid(out) {
		return nil, j, false
	}
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			d.scratch = out
			return out, j + 1, true
		case c == '\\':
			if j+1 >= len(b) {
				return nil, j, false
			}
			j++
			switch b[j] {
			case '"', '\\', '/':
				out = append(out, b[j])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, j+1)
				if !ok {
					return nil, j, false
				}
				j += 4
				if utf16.IsSurrogate(r) {
					// A valid pair becomes one rune; anything else is
					// U+FFFD, and the next escape is decoded on its own
					// (as encoding/json does).
					if j+6 < len(b) && b[j+1] == '\\' && b[j+2] == 'u' {
						if r2, ok := hex4(b, j+3); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								out = utf8.AppendRune(out, dec)
								j += 6
								break
							}
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, j, false
			}
			j++
		case c < 0x20:
			return nil, j, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return nil, j, false
			}
			out = append(out, b[j:j+size]...)
			j += size
		}
	}
	return nil, j, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue skips an unknown key's value: a string, a number, true, false
// or null. Objects and arrays are left to encoding/json.
func (d *decoder) skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		_, next, ok := d.str(b, i)
		return next, ok
	case c == '-' || '0' <= c && c <= '9':
		end, _, ok := scanNumber(b, i)
		return end, ok
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	}
	return i, false
}

// pow10 holds the powers of ten that a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanNumber checks the JSON number grammar at b[i:] and returns its end
// and whether it is a plain decimal (no exponent).
func scanNumber(b []byte, i int) (end int, plain, ok bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	default:
		return j, false, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false, false
		}
	}
	plain = true
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		plain = false
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false, false
		}
	}
	return j, plain, true
}

// number decodes a JSON number into *dst as strconv.ParseFloat (and so
// encoding/json) would.
func number(b []byte, i int, dst *float64) (int, bool) {
	end, plain, ok := scanNumber(b, i)
	if !ok {
		return end, false
	}
	num := b[i:end]
	if plain {
		// Exact fast path (as in strconv): an integer mantissa below
		// 2^53 divided by an exact power of ten is correctly rounded.
		neg := num[0] == '-'
		if neg {
			num = num[1:]
		}
		var mant uint64
		digits, frac, dot := 0, 0, false
		for _, c := range num {
			if c == '.' {
				dot = true
				continue
			}
			if mant != 0 || c != '0' {
				digits++
			}
			mant = mant*10 + uint64(c-'0')
			if dot {
				frac++
			}
		}
		if digits <= 15 && frac < len(pow10) {
			f := float64(mant) / pow10[frac]
			if neg {
				f = -f
			}
			*dst = f
			return end, true
		}
	}
	f, err := strconv.ParseFloat(string(b[i:end]), 64)
	if err != nil {
		return end, false // out of range: encoding/json reports an error
	}
	*dst = f
	return end, true
}

// jsonUnmarshal is the slow path.
func jsonUnmarshal(line []byte, e *Event) error {
	return json.Unmarshal(line, e)
}

// internEvent interns the strings of an event decoded by encoding/json.
func (d *decoder) internEvent(e *Event) {
	e.Package = d.intern.str(e.Package)
	e.Test = d.intern.str(e.Test)
	e.ImportPath = d.intern.str(e.ImportPath)
	e.FailedBuild = d.intern.str(e.FailedBuild)
	e.OutputType = d.intern.str(e.OutputType)
	e.Key = d.intern.str(e.Key)
	e.Action = Action(d.intern.str(string(e.Action)))
}
