// Package cart totals a shopping cart. Part of fixture example.
package cart

import (
	"example.com/shop/catalog"
	"example.com/shop/money"
)

// Line is a quantity of one product.
type Line struct {
	SKU string
	Qty int
}

// Total prices the lines against the catalog.
func Total(c *catalog.Catalog, lines []Line) (money.Cents, error) {
	var sum money.Cents
	for _, l := range lines {
		p, err := c.Lookup(l.SKU)
		if err != nil {
			return 0, err
		}
		sum += p.Price * money.Cents(l.Qty)
	}
	return sum, nil
}
