package pytest

import (
	"bytes"
	"strconv"
	"strings"
)

// Python's faulthandler writes, for every thread of the interpreter (at
// most 100, newest first, the main thread last):
//
//	Thread 0x00007f3a1c2ff6c0 (most recent call first):
//	  File "/src/test_a.py", line 12 in wait_for
//	  File "/src/test_a.py", line 20 in test_a
//
//	Current thread 0x00007f3a1d5e3740 (most recent call first):
//	  <no Python frame>
//
// Threads are separated by one empty line; the dump itself has no end
// marker, and a second dump follows the first with no empty line in
// between (ParseFaulthandler also starts a new dump at a header whose
// ident the current dump already has, so that other output between two
// threads does not split a dump). A stack deeper than 100 frames ends in "  ...", a 101st thread
// is replaced by a line "..." that ends the dump. A file or function name
// that is not a string is written "???", a line number that is unknown
// too; names longer than 500 characters are cut and end in "...", and
// non-ASCII characters are escaped (\xNN, \uNNNN). The thread that ran the
// handler while it was collecting garbage gets a line "  Garbage-collecting"
// after its header. With all_threads=False (not what the plugin uses) the
// header is "Stack (most recent call first):".

// Frame is one line of a Python stack.
type Frame struct {
	File string // as faulthandler wrote it; "???" when unknown
	Line int    // 0 when unknown
	Func string
}

// ThreadStack is one thread of a faulthandler dump.
type ThreadStack struct {
	// Ident is the thread's pthread id as threading.get_ident gives it
	// (0 for a "Stack" header, which has none).
	Ident   uint64
	Current bool // the thread that ran the signal handler
	// Frames are the Python frames, most recent call first.
	Frames []Frame
	// NoFrame: the thread ran no Python code ("<no Python frame>").
	NoFrame bool
	// Truncated: faulthandler stopped after 100 frames ("  ...").
	Truncated bool
	// GC: the thread was collecting garbage.
	GC bool
	// Partial: the text ended inside this thread's stack, on a line cut
	// short (the dump was still being written, or the file was cut).
	Partial bool
}

// FaultDump is one dump: the threads one signal printed.
type FaultDump struct {
	Threads []ThreadStack
	// MoreThreads: the process had more than 100 threads and faulthandler
	// printed only the first 100 ("...").
	MoreThreads bool
}

// parse states of ParseFaulthandler.
const (
	outside     = iota // between dumps: a header starts one, anything else is other output
	inThread           // after a header: frames; an empty line ends the thread, a header starts a new dump
	afterThread        // after an empty line: a header of a new ident is the next thread, one already seen starts a new dump, "..." ends the dump, anything else is other output
)

// has reports whether the dump already has a thread with ident (a second
// header for it starts another dump).
func (d *FaultDump) has(ident uint64) bool {
	for _, t := range d.Threads {
		if t.Ident == ident {
			return true
		}
	}
	return false
}

// ParseFaulthandler reads faulthandler dumps out of text, in order, and
// returns them with the lines that belong to no dump (other output
// interleaved with them). It never fails: a line it does not recognise
// inside a stack is other output, and a last line without its newline is
// a cut line (the thread is marked Partial and the fragment kept out of
// its frames). It holds no reference to text.
func ParseFaulthandler(text []byte) (dumps []FaultDump, other []string) {
	state := outside
	var cur *FaultDump
	thread := func() *ThreadStack { return &cur.Threads[len(cur.Threads)-1] }
	for len(text) > 0 {
		var line []byte
		cut := false
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text, cut = text, nil, true
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if cut && state == inThread {
			thread().Partial = true
			continue
		}
		if ident, current, ok := parseHeader(line); ok && !cut {
			if state != afterThread || cur.has(ident) {
				dumps = append(dumps, FaultDump{})
				cur = &dumps[len(dumps)-1]
			}
			cur.Threads = append(cur.Threads, ThreadStack{Ident: ident, Current: current})
			state = inThread
			continue
		}
		switch state {
		case inThread:
			t := thread()
			switch s := string(line); {
			case s == "":
				state = afterThread
			case s == "  ...":
				t.Truncated = true
			case s == "  <no Python frame>":
				t.NoFrame = true
			case s == "  Garbage-collecting":
				t.GC = true
			default:
				if f, ok := parseFrame(s); ok {
					t.Frames = append(t.Frames, f)
				} else {
					other = append(other, s)
				}
			}
			continue
		case afterThread:
			if string(line) == "..." {
				cur.MoreThreads = true
				state = outside
				continue
			}
			if len(line) == 0 {
				continue
			}
			// Other output between two threads: the dump goes on if a
			// header of a thread it does not have yet follows.
		}
		other = append(other, string(line))
	}
	return dumps, other
}

// parseHeader recognises a thread header and returns the thread's ident
// and whether it is the current thread.
func parseHeader(line []byte) (ident uint64, current, ok bool) {
	s := string(line)
	if s == "Stack (most recent call first):" {
		return 0, true, true
	}
	rest, found := strings.CutSuffix(s, " (most recent call first):")
	if !found {
		return 0, false, false
	}
	if r, c := strings.CutPrefix(rest, "Current thread 0x"); c {
		rest, current = r, true
	} else if r, t := strings.CutPrefix(rest, "Thread 0x"); t {
		rest = r
	} else {
		return 0, false, false
	}
	id, err := strconv.ParseUint(rest, 16, 64)
	if err != nil {
		return 0, false, false
	}
	return id, current, true
}

// parseFrame recognises `  File "F", line N in FUNC`. The file name may
// itself hold `", line `, so the last one counts; "???" stands for an
// unknown file, line or function.
func parseFrame(s string) (Frame, bool) {
	rest, ok := strings.CutPrefix(s, "  File ")
	if !ok {
		return Frame{}, false
	}
	var f Frame
	if q, isQuoted := strings.CutPrefix(rest, `"`); isQuoted {
		i := strings.LastIndex(q, `", line `)
		if i < 0 {
			return Frame{}, false
		}
		f.File, rest = q[:i], q[i+len(`", line `):]
	} else if r, unknown := strings.CutPrefix(rest, "???, line "); unknown {
		f.File, rest = "???", r
	} else {
		return Frame{}, false
	}
	num, fn, ok := strings.Cut(rest, " in ")
	if !ok || fn == "" {
		return Frame{}, false
	}
	if num != "???" {
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			return Frame{}, false
		}
		f.Line = n
	}
	f.Func = fn
	return f, true
}
