package notify

import "testing"

func TestPublish(t *testing.T) {
	got := make(chan string, 1)
	b := Subscribe(func(m string) { got <- m })
	b.Publish("hi")
	if m := <-got; m != "hi" {
		t.Fatalf("got %q", m)
	}
}

func TestPublishNoHandler(t *testing.T) {
	b := Subscribe(nil)
	b.Publish("dropped")
}
