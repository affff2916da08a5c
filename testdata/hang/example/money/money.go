// Package money formats amounts in cents. Part of fixture example (the README demo).
package money

import "fmt"

// Cents is an amount of money in cents.
type Cents int64

// String formats c as dollars.
func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s$%d.%02d", sign, c/100, c%100)
}
