package money

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Cents
		want string
	}{{0, "$0.00"}, {199, "$1.99"}, {-5, "-$0.05"}} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%d: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSum(t *testing.T) {
	var total Cents
	for _, c := range []Cents{100, 250, 1} {
		total += c
	}
	if total.String() != "$3.51" {
		t.Fatalf("got %v", total)
	}
}

func TestLarge(t *testing.T) {
	if got := Cents(123456789).String(); got != "$1234567.89" {
		t.Fatalf("got %q", got)
	}
}
