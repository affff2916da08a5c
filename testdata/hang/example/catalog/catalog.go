// Package catalog holds the products for sale. Part of fixture example.
package catalog

import (
	"errors"
	"time"

	"example.com/shop/money"
)

// Product is one item for sale.
type Product struct {
	SKU   string
	Name  string
	Price money.Cents
}

// ErrNotFound is returned for an unknown SKU.
var ErrNotFound = errors.New("product not found")

// Catalog is a read-only product list loaded at startup.
type Catalog struct{ bySKU map[string]Product }

// Load builds a catalog, simulating a slow backend.
func Load(products []Product) *Catalog {
	time.Sleep(300 * time.Millisecond)
	c := &Catalog{bySKU: map[string]Product{}}
	for _, p := range products {
		c.bySKU[p.SKU] = p
	}
	return c
}

// Lookup returns the product with the given SKU.
func (c *Catalog) Lookup(sku string) (Product, error) {
	p, ok := c.bySKU[sku]
	if !ok {
		return Product{}, ErrNotFound
	}
	return p, nil
}
