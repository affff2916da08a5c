// Package hang parks goroutines in every kind of wait the runtime reports,
// so that real Go releases can print real goroutine dumps of them.
package hang

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var stop int32

var (
	heldMu sync.Mutex
	rwRead sync.RWMutex // held by a writer: readers wait
	rwW    sync.RWMutex // held by a reader: writers wait
	wg     sync.WaitGroup
	cond   = sync.NewCond(&sync.Mutex{})
)

// StartAll starts one goroutine per kind of wait and returns once they had
// time to park. With syncOnly, it leaves out waits that keep the runtime's
// deadlock detector quiet (timers, network, syscalls, busy loops).
func StartAll(syncOnly bool) {
	heldMu.Lock()
	go lockMutex(&heldMu)
	rwRead.Lock()
	go rlockRW(&rwRead)
	rwW.RLock()
	go lockRW(&rwW)
	go chanRecv(make(chan int))
	go chanSend(make(chan int))
	go nilRecv()
	go nilSend()
	go selectWait(make(chan int), make(chan int))
	go selectNoCases()
	wg.Add(1)
	go wgWait(&wg)
	go condWait(cond)
	go spawner()
	if !syncOnly {
		go sleeper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			go accept(ln)
		}
		go busy()
		go rawRead()
	}
	time.Sleep(200 * time.Millisecond)
}

func lockMutex(mu *sync.Mutex) { mu.Lock() }

func rlockRW(rw *sync.RWMutex) { rw.RLock() }

func lockRW(rw *sync.RWMutex) { rw.Lock() }

func chanRecv(ch chan int) { <-ch }

func chanSend(ch chan int) { ch <- 1 }

func nilRecv() {
	var ch chan int
	<-ch
}

func nilSend() {
	var ch chan int
	ch <- 1
}

func selectWait(a, b chan int) {
	select {
	case <-a:
	case b <- 1:
	}
}

func selectNoCases() { select {} }

func wgWait(wg *sync.WaitGroup) { wg.Wait() }

func condWait(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
	c.L.Unlock()
}

// spawner exits at once; its child outlives it, so the child's parent is no
// longer in the dump.
func spawner() { go orphan(make(chan int)) }

func orphan(ch chan int) { <-ch }

func sleeper() { time.Sleep(time.Hour) }

func accept(ln net.Listener) { _, _ = ln.Accept() }

func busy() {
	n := 0
	for atomic.LoadInt32(&stop) == 0 {
		n++
	}
	_ = n
}

// rawRead blocks in a read(2) on a blocking pipe: state "syscall".
func rawRead() {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return
	}
	var b [1]byte
	_, _ = syscall.Read(p[0], b[:])
}

// StartBusy starts n goroutines that spin until the process exits.
func StartBusy(n int) {
	for i := 0; i < n; i++ {
		go busy()
	}
	time.Sleep(100 * time.Millisecond)
}

// LockOrder makes two goroutines take a and b in opposite orders and
// deadlock; it returns once both are blocked.
func LockOrder() {
	var a, b sync.Mutex
	var ready sync.WaitGroup
	ready.Add(2)
	go lockAB(&a, &b, &ready)
	go lockAB(&b, &a, &ready)
	ready.Wait()
	time.Sleep(50 * time.Millisecond)
}

func lockAB(first, second *sync.Mutex, ready *sync.WaitGroup) {
	first.Lock()
	ready.Done()
	ready.Wait()
	second.Lock()
}
