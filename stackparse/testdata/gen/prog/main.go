// Command prog prints real goroutine dumps for stackparse's fixtures. The
// scenario is the first argument; see gen.sh.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"example.com/gen/hang"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: prog scenario")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "deadlock":
		hang.StartAll(true)
		var wg sync.WaitGroup
		wg.Add(1)
		wg.Wait()
	case "stack":
		labelled()
		hang.StartAll(false)
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		os.Stdout.Write(buf[:n])
	case "pprof0", "pprof1", "pprof2":
		labelled()
		hang.StartAll(false)
		debug := int(os.Args[1][len("pprof")] - '0')
		pprof.Lookup("goroutine").WriteTo(os.Stdout, debug)
	case "sigquit":
		labelled()
		hang.StartAll(false)
		hang.LockOrder()
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(5 * time.Second)
	case "recovered":
		go hang.StartAll(true)
		time.Sleep(300 * time.Millisecond)
		defer func() {
			r := recover()
			panic(fmt.Sprint("again: ", r))
		}()
		panic("boom")
	case "repanic":
		defer func() {
			r := recover()
			panic(r)
		}()
		panic("boom")
	case "otherthread":
		// Goroutines running on other threads when the panic prints
		// its traceback have no stack to show.
		hang.StartBusy(2)
		panic("while others spin")
	case "multiline":
		go hang.StartAll(true)
		time.Sleep(300 * time.Millisecond)
		panic(errors.New("first line\nsecond line\n\tindented third"))
	case "ancestors":
		chain(3)
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		os.Stdout.Write(buf[:n])
	case "deep":
		go deep(150)
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		os.Stdout.Write(buf[:n])
	case "big":
		// big [N [DEPTH]]: N goroutines (default 40000); one in four
		// sits in a recursion up to DEPTH frames deep (default 20).
		n, depth := 40000, 20
		if len(os.Args) > 2 {
			n, _ = strconv.Atoi(os.Args[2])
		}
		if len(os.Args) > 3 {
			depth, _ = strconv.Atoi(os.Args[3])
		}
		if depth < 1 {
			depth = 1
		}
		big(n, depth)
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 2)
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", os.Args[1])
		os.Exit(2)
	}
}

// labelled starts goroutines that carry pprof labels, one with a value that
// needs quoting.
func labelled() {
	ctx := context.Background()
	pprof.Do(ctx, pprof.Labels("test", "TestLabels", "weird", "a]b, c:d \"q\""), func(context.Context) {
		go labelWait(make(chan int))
	})
}

func labelWait(ch chan int) { <-ch }

// chain creates a chain of goroutines, each created by the previous one, so
// that tracebackancestors has something to print.
func chain(n int) {
	if n == 0 {
		<-make(chan int)
		return
	}
	go chain(n - 1)
	if n == 3 {
		return
	}
	<-make(chan int)
}

func deep(n int) int {
	if n == 0 {
		<-make(chan int)
		return 0
	}
	return deep(n-1) + 1
}
