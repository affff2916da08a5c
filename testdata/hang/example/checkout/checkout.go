// Package checkout turns a cart into an order. Part of fixture example.
package checkout

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"example.com/shop/money"
)

// Order is a placed order.
type Order struct {
	ID    string
	Total money.Cents
	Email string
}

// ErrEmptyCart is returned when there is nothing to order.
var ErrEmptyCart = errors.New("cart is empty")

// Place validates the order and "charges" the card, which takes a while.
func Place(id, email string, total money.Cents) (Order, error) {
	if total <= 0 {
		return Order{}, ErrEmptyCart
	}
	if !strings.Contains(email, "@") {
		return Order{}, fmt.Errorf("invalid email %q", email)
	}
	time.Sleep(200 * time.Millisecond) // payment gateway
	return Order{ID: id, Total: total, Email: email}, nil
}

// Receipt formats an order for the confirmation mail.
func Receipt(o Order) string {
	return fmt.Sprintf("Order %s: %v", o.ID, o.Total)
}
