// Command dump parks goroutines in reflect's channel operations, a forked
// lock and a sleep, then prints a goroutine dump of itself: "profile1" a
// pprof goroutine profile with debug=1, "sigquit" the runtime's SIGQUIT
// traceback (with the runtime's own goroutines).
package main

import (
	"os"
	"reflect"
	"runtime/pprof"
	"syscall"
	"time"

	"mycorp/platform/xsync"
)

func reflectSelect(ch chan int) {
	reflect.Select([]reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(make(chan int))},
	})
}

func reflectRecv(ch chan int) { reflect.ValueOf(ch).Recv() }

func reflectSend(ch chan int) { reflect.ValueOf(ch).Send(reflect.ValueOf(1)) }

func forked(m *xsync.Mutex) {
	m.Lock()
	m.Lock()
}

func sleeper() { time.Sleep(time.Hour) }

func main() {
	ch := make(chan int)
	go reflectSelect(ch)
	go reflectRecv(ch)
	go reflectSend(make(chan int))
	go forked(new(xsync.Mutex))
	go sleeper()
	time.Sleep(200 * time.Millisecond)
	switch os.Args[1] {
	case "profile1":
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
	case "sigquit":
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(time.Hour)
	}
}
