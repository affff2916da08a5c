package gotest

import "testing"

func TestParseGoMinor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"go1.27.3\n", 27, true},
		{"go1.21.13", 21, true},
		{"go1.24", 24, true},
		{"go1.27rc1\n", 27, true},
		{"go1.28beta2", 28, true},
		{"go1.27.3 X:goroutineleakprofile", 27, true},
		{"devel go1.28-0123abc Mon Jan 1 00:00:00 2027 +0000", 0, false},
		{"", 0, false},
	} {
		n, ok := ParseGoMinor(tc.in)
		if n != tc.want || ok != tc.ok {
			t.Errorf("ParseGoMinor(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}
