package stackparse

import "hash/maphash"

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
// (function, file and line; arguments too with KeepPointers) and the same
// created-by function into one bucket. Buckets are ordered by their first
// goroutine's position in gs; their frames are those of that goroutine.
// It hashes each stack once and compares stacks only within a hash bucket,
// so it costs O(total frames) and allocates per bucket, not per goroutine.
func Group(gs []*Goroutine, opts GroupOptions) []*Bucket {
	var out []*Bucket
	idx := make(map[uint64][]*Bucket)
	seed := maphash.MakeSeed()
	var h maphash.Hash
	for _, g := range gs {
		w := Classify(g)
		h.SetSeed(seed)
		hashStack(&h, g, w, opts)
		sum := h.Sum64()
		var b *Bucket
		for _, c := range idx[sum] {
			if c.Wait == w && sameStack(c.Goroutines[0], g, opts) {
				b = c
				break
			}
		}
		if b == nil {
			b = &Bucket{Wait: w, State: g.State, Frames: g.Frames, CreatedBy: g.CreatedBy}
			idx[sum] = append(idx[sum], b)
			out = append(out, b)
		}
		b.IDs = append(b.IDs, g.ID)
		b.Goroutines = append(b.Goroutines, g)
		b.Count += max(g.Count, 1)
	}
	return out
}

func hashStack(h *maphash.Hash, g *Goroutine, w Wait, opts GroupOptions) {
	var buf [8]byte
	put := func(v uint64) {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	put(uint64(w))
	for _, f := range g.Frames {
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
	if g.CreatedBy != nil {
		h.WriteString(g.CreatedBy.Func)
	}
}

func sameStack(a, b *Goroutine, opts GroupOptions) bool {
	if len(a.Frames) != len(b.Frames) || (a.CreatedBy == nil) != (b.CreatedBy == nil) {
		return false
	}
	if a.CreatedBy != nil && a.CreatedBy.Func != b.CreatedBy.Func {
		return false
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
