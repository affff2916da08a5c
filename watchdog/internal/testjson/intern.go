package testjson

// Bounds of the intern table. A stream names few packages and, per
// package, tests that repeat on every event of the test (run, output
// lines, pass), so interning Package and Test saves an allocation on
// almost every event. The table is bounded so that a stream of endless
// distinct names (a fuzz run, generated subtests) cannot grow memory:
// when it is full it is dropped and refilled, which costs only
// allocations. Worst case about internMaxEntries*internMaxLen = 2 MiB.
const (
	internMaxEntries = 4096
	internMaxLen     = 512 // longer strings are not interned
)

// interner maps strings to one shared copy. Not safe for concurrent use.
type interner struct {
	m map[string]string
}

// bytes returns b as a string, shared with earlier calls for equal bytes.
func (in *interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	in.add(s)
	return s
}

// str is bytes for a string that is already allocated.
func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if t, ok := in.m[s]; ok {
		return t
	}
	in.add(s)
	return s
}

func (in *interner) add(s string) {
	if len(s) > internMaxLen {
		return
	}
	if in.m == nil || len(in.m) >= internMaxEntries {
		in.m = make(map[string]string, 64)
	}
	in.m[s] = s
}

// internAction returns the constant for known actions without allocating.
func internAction(b []byte, in *interner) Action {
	switch string(b) {
	case "output":
		return ActionOutput
	case "run":
		return ActionRun
	case "pass":
		return ActionPass
	case "fail":
		return ActionFail
	case "skip":
		return ActionSkip
	case "pause":
		return ActionPause
	case "cont":
		return ActionCont
	case "start":
		return ActionStart
	case "bench":
		return ActionBench
	case "build-output":
		return ActionBuildOutput
	case "build-fail":
		return ActionBuildFail
	case "attr":
		return ActionAttr
	case "artifacts":
		return ActionArtifacts
	}
	return Action(in.bytes(b))
}
