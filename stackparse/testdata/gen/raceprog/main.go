// Command raceprog has a data race between the main goroutine and one it
// starts, for the race report fixture of a program that is not a test
// ("by main goroutine"). Run it with go run -race.
package main

import "time"

func main() {
	n := 0
	done := make(chan bool)
	go func() {
		n++
		done <- true
	}()
	time.Sleep(100 * time.Millisecond)
	n++
	<-done
}
