package stackparse

import (
	"hash/maphash"
	"maps"
)

// Bucket is a set of goroutines that are stuck in the same place the same
// way.
type Bucket struct {
	IDs        []int64 // in input order
	Count      int     // goroutines in the bucket (sum of Counts for profiles)
	Wait       Wait
	State      string // the state of the first goroutine, as printed
	Frames     []Frame
	CreatedBy  *Frame
	Goroutines []*Goroutine // in input order
}

// GroupOptions configures Group. The zero value ignores arguments.
type GroupOptions struct {
	// KeepPointers makes call arguments part of a bucket's identity, so
	// that goroutines blocked on different objects stay apart.
	KeepPointers bool
}

// Group puts goroutines with the same wait class, the same frames
// (function, file and line; arguments too with KeepPointers), the same
// created-by function, the same labels and the same header qualifiers
// (locked to thread, durable, leaked, synctest bubble) into one bucket. Buckets are
// ordered by their first goroutine's position in gs; their frames are
// those of that goroutine. It hashes each stack once and compares stacks
// only within a hash bucket, so it costs O(total frames) and allocates per
// bucket, not per goroutine.
func Group(gs []*Goroutine, opts GroupOptions) []*Bucket {
	gr := NewGrouper(opts)
	for _, g := range gs {
		gr.Add(g)
	}
	return gr.Buckets()
}

// Grouper is Group one goroutine at a time, for goroutines that arrive
// from a stream (Parser.OnGoroutine). Its memory is that of the buckets:
// one stack per bucket plus, per goroutine, its ID and pointer in
// Bucket.IDs and Bucket.Goroutines. A Grouper must not be used by two
// goroutines at once.
type Grouper struct {
	opts    GroupOptions
	seed    maphash.Seed
	idx     map[uint64][]*Bucket
	buckets []*Bucket

	// frameHash caches the hash of a Frames slice by its first element:
	// goroutines parsed with Parser.ShareFrames share slices, so most
	// stacks are hashed once.
	frameHash map[frameKey]uint64
}

type frameKey struct {
	first *Frame
	n     int
}

// NewGrouper returns an empty Grouper.
func NewGrouper(opts GroupOptions) *Grouper {
	return &Grouper{opts: opts, seed: maphash.MakeSeed(), idx: make(map[uint64][]*Bucket), frameHash: make(map[frameKey]uint64)}
}

// Add puts g into its bucket and returns the bucket.
func (gr *Grouper) Add(g *Goroutine) *Bucket {
	w := Classify(g)
	sum := gr.hash(g, w)
	var b *Bucket
	for _, c := range gr.idx[sum] {
		if c.Wait == w && sameStack(c.Goroutines[0], g, gr.opts) {
			b = c
			break
		}
	}
	if b == nil {
		b = &Bucket{Wait: w, State: g.State, Frames: g.Frames, CreatedBy: g.CreatedBy}
		gr.idx[sum] = append(gr.idx[sum], b)
		gr.buckets = append(gr.buckets, b)
	}
	b.IDs = append(b.IDs, g.ID)
	b.Goroutines = append(b.Goroutines, g)
	b.Count += max(g.Count, 1)
	return b
}

// Buckets returns the buckets so far, in the order of their first
// goroutine. The slice is the Grouper's: do not modify it.
func (gr *Grouper) Buckets() []*Bucket { return gr.buckets }

// hash is the bucket identity of g: its frames (hashed once per shared
// slice), wait class, creator and labels.
func (gr *Grouper) hash(g *Goroutine, w Wait) uint64 {
	var fh uint64
	if len(g.Frames) > 0 {
		key := frameKey{&g.Frames[0], len(g.Frames)}
		var ok bool
		if fh, ok = gr.frameHash[key]; !ok {
			var h maphash.Hash
			h.SetSeed(gr.seed)
			hashFrames(&h, g.Frames, gr.opts)
			fh = h.Sum64()
			gr.frameHash[key] = fh
		}
	}
	var h maphash.Hash
	h.SetSeed(gr.seed)
	var buf [8]byte
	put := func(v uint64) {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	put(uint64(w))
	put(fh)
	put(uint64(len(g.Frames)))
	if g.CreatedBy != nil {
		h.WriteString(g.CreatedBy.Func)
	}
	put(uint64(g.Bubble))
	put(qualifierBits(g))
	// Labels in any order: a sum of per-pair hashes.
	var ls uint64
	for k, v := range g.Labels {
		ls += maphash.String(labelSeed, k+"\x00"+v)
	}
	put(ls)
	return h.Sum64()
}

// hashFrames hashes what Group compares of a stack.
func hashFrames(h *maphash.Hash, frames []Frame, opts GroupOptions) {
	var buf [8]byte
	put := func(v uint64) {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	for _, f := range frames {
		h.WriteString(f.Func)
		h.WriteByte(0)
		h.WriteString(f.File)
		h.WriteByte(0)
		put(uint64(f.Line))
		if opts.KeepPointers {
			h.WriteString(f.Args)
			h.WriteByte(0)
		}
	}
}

var labelSeed = maphash.MakeSeed()

// qualifierBits packs the header qualifiers that keep goroutines apart in
// Group: "locked to thread", "(durable)", "(leaked)".
func qualifierBits(g *Goroutine) uint64 {
	var b uint64
	if g.Locked {
		b |= 1
	}
	if g.Durable {
		b |= 2
	}
	if g.Leaked {
		b |= 4
	}
	return b
}

func sameStack(a, b *Goroutine, opts GroupOptions) bool {
	if len(a.Frames) != len(b.Frames) || (a.CreatedBy == nil) != (b.CreatedBy == nil) {
		return false
	}
	if a.CreatedBy != nil && a.CreatedBy.Func != b.CreatedBy.Func {
		return false
	}
	if !maps.Equal(a.Labels, b.Labels) || a.Bubble != b.Bubble || qualifierBits(a) != qualifierBits(b) {
		return false
	}
	if len(a.Frames) > 0 && &a.Frames[0] == &b.Frames[0] {
		return true // one shared slice (Parser.ShareFrames)
	}
	for i := range a.Frames {
		fa, fb := &a.Frames[i], &b.Frames[i]
		if fa.Func != fb.Func || fa.File != fb.File || fa.Line != fb.Line ||
			(opts.KeepPointers && fa.Args != fb.Args) {
			return false
		}
	}
	return true
}
