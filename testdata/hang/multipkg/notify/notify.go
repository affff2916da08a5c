// Fixture multipkg, package notify: Publish sends on the subscriber's
// unbuffered channel, but Subscribe starts no reader when no handler is
// given. TestPublishNoHandler blocks forever in Publish's send (chan send)
// while packages parse and store pass.
package notify

// Bus delivers messages to one subscriber.
type Bus struct {
	ch chan string
}

// Subscribe registers handler; a nil handler drops messages.
func Subscribe(handler func(string)) *Bus {
	b := &Bus{ch: make(chan string)}
	if handler != nil { // BUG: with a nil handler nobody drains b.ch
		go func() {
			for m := range b.ch {
				handler(m)
			}
		}()
	}
	return b
}

// Publish delivers msg to the subscriber.
func (b *Bus) Publish(msg string) {
	b.ch <- msg
}
