package bank

import (
	"sync"
	"testing"
)

func TestTransfer(t *testing.T) {
	alice, bob := NewAccount("alice", 100), NewAccount("bob", 0)
	if err := Transfer(alice, bob, 30); err != nil {
		t.Fatal(err)
	}
	if alice.Balance() != 70 || bob.Balance() != 30 {
		t.Fatalf("balances: alice %d, bob %d", alice.Balance(), bob.Balance())
	}
}

func TestConcurrentTransfers(t *testing.T) {
	alice, bob := NewAccount("alice", 100), NewAccount("bob", 100)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = Transfer(alice, bob, 10)
	}()
	go func() {
		defer wg.Done()
		_ = Transfer(bob, alice, 20)
	}()
	wg.Wait()
	if total := alice.Balance() + bob.Balance(); total != 200 {
		t.Fatalf("money created or lost: total %d", total)
	}
}
