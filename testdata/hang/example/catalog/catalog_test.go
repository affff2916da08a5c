package catalog

import (
	"errors"
	"testing"
)

var products = []Product{{"A1", "Anvil", 4999}, {"B2", "Bucket", 799}}

func TestLookup(t *testing.T) {
	c := Load(products)
	p, err := c.Lookup("B2")
	if err != nil || p.Name != "Bucket" {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestLookupMissing(t *testing.T) {
	c := Load(products)
	if _, err := c.Lookup("Z9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}
