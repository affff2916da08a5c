// Fixture mutexcycle: Transfer locks the source account, then the
// destination. TestConcurrentTransfers runs alice->bob and bob->alice at the
// same time; each goroutine holds its first lock and waits forever for the
// second (lock-order inversion) in Transfer's to.mu.Lock, while the test waits
// in wg.Wait.
package bank

import (
	"errors"
	"sync"
	"time"
)

// ErrInsufficientFunds is returned when the source account cannot cover a transfer.
var ErrInsufficientFunds = errors.New("insufficient funds")

// Account is a balance guarded by its own mutex.
type Account struct {
	ID      string
	mu      sync.Mutex
	balance int
}

// NewAccount returns an account holding balance.
func NewAccount(id string, balance int) *Account {
	return &Account{ID: id, balance: balance}
}

// Balance returns the current balance.
func (a *Account) Balance() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

// Transfer moves amount from one account to another.
func Transfer(from, to *Account, amount int) error {
	from.mu.Lock()
	defer from.mu.Unlock()
	if from.balance < amount {
		return ErrInsufficientFunds
	}
	if err := fraudCheck(from.ID, to.ID, amount); err != nil {
		return err
	}
	to.mu.Lock() // BUG: lock order depends on the direction of the transfer
	defer to.mu.Unlock()
	from.balance -= amount
	to.balance += amount
	return nil
}

// fraudCheck stands in for a call to a fraud scoring service.
func fraudCheck(from, to string, amount int) error {
	time.Sleep(50 * time.Millisecond)
	if from == to {
		return errors.New("transfer to self")
	}
	return nil
}
