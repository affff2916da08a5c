package main

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// big parks n goroutines for the benchmarks (see the "big" scenario). With
// a fourth argument "stack" it prints them with runtime.Stack and exits,
// for dumps beyond the 64 MiB at which pprof's debug=2 output stops.
func big(n, depth int) {
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	ch := make(chan int)
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			go func() { mu.Lock() }()
		case 1:
			go func() { wg.Wait() }()
		case 2:
			go func() { <-ch }()
		case 3:
			go func(d int) { deep(d) }(i % depth)
		}
	}
	time.Sleep(time.Duration(n/100+200) * time.Millisecond)
	if len(os.Args) > 4 && os.Args[4] == "stack" {
		buf := make([]byte, 64<<20)
		for {
			k := runtime.Stack(buf, true)
			if k < len(buf) {
				os.Stdout.Write(buf[:k])
				os.Exit(0)
			}
			buf = make([]byte, 2*len(buf))
		}
	}
}
