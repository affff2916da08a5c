// Package collide declares, at package scope, names the agent could
// plausibly use: its imports must not collide with them.
package collide

var (
	os      = 1
	time    = "t"
	json    = 2.0
	runtime = []int{}
	pprof   = struct{}{}
	agent   = 3
	a       = 4
	poll    = 5
)

type syscall int

func strconv() int { return os + agent + a + poll + len(runtime) + int(json) + len(time) }

func filepath() syscall { _ = pprof; return syscall(strconv()) }
