package testjson

// This file is the fast path for the Time field, as test2json writes it;
// other forms go to encoding/json.

import "time"

// time decodes the times test2json writes: "2006-01-02T15:04:05.999999999Z".
// Other forms (offsets, escapes, null) go to encoding/json.
func (d *decoder) time(b []byte, i int, dst *time.Time) (int, bool) {
	// "YYYY-MM-DDTHH:MM:SS" is 19 bytes, plus quotes and Z.
	if i+22 > len(b) || b[i] != '"' {
		return i, false
	}
	s := b[i+1:]
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return i, false
	}
	year, ok1 := digitsN(s[0:4])
	month, ok2 := digitsN(s[5:7])
	day, ok3 := digitsN(s[8:10])
	hour, ok4 := digitsN(s[11:13])
	minute, ok5 := digitsN(s[14:16])
	sec, ok6 := digitsN(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return i, false
	}
	j := 19
	nsec := 0
	if j < len(s) && s[j] == '.' {
		j++
		k := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		n := j - k
		if n == 0 || n > 9 {
			return i, false
		}
		nsec, _ = digitsN(s[k:j])
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	if j+1 >= len(s) || s[j] != 'Z' || s[j+1] != '"' {
		return i, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return i, false
	}
	*dst = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return i + 1 + j + 2, true
}

func digitsN(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
