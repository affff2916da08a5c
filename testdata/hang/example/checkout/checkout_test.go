package checkout

import (
	"errors"
	"testing"
)

func TestPlace(t *testing.T) {
	o, err := Place("o-1", "a@example.com", 1299)
	if err != nil || o.Total != 1299 {
		t.Fatalf("got %+v, %v", o, err)
	}
}

func TestPlaceEmpty(t *testing.T) {
	if _, err := Place("o-2", "a@example.com", 0); !errors.Is(err, ErrEmptyCart) {
		t.Fatalf("got %v", err)
	}
}

func TestPlaceBadEmail(t *testing.T) {
	if _, err := Place("o-3", "nobody", 100); err == nil {
		t.Fatal("want an error")
	}
}

func TestReceipt(t *testing.T) {
	if got := Receipt(Order{ID: "o-4", Total: 250}); got != "Order o-4: $2.50" {
		t.Fatalf("got %q", got)
	}
}
