package cart

import (
	"testing"

	"example.com/shop/catalog"
)

func TestTotal(t *testing.T) {
	c := catalog.Load([]catalog.Product{{SKU: "A1", Price: 100}, {SKU: "B2", Price: 250}})
	got, err := Total(c, []Line{{"A1", 2}, {"B2", 1}})
	if err != nil || got != 450 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestTotalUnknown(t *testing.T) {
	c := catalog.Load(nil)
	if _, err := Total(c, []Line{{"X", 1}}); err == nil {
		t.Fatal("want an error")
	}
}
