package stackparse

import (
	"slices"
	"strings"
	"unsafe"
)

// This file holds what keeps a big dump's memory small: stacks shared
// between goroutines (Parser.ShareFrames) and the set of goroutine ids of
// the open dump.

// share returns a slice equal to frames (see Parser.ShareFrames): one seen
// before, or a copy that later goroutines may share.
func (s *scanner) share(frames []Frame) []Frame {
	// Names, files and short arguments are interned, so equal strings
	// are mostly one string: hash their addresses (a string that was not
	// interned only misses the sharing; sameFrames compares contents).
	h := uint64(len(frames))
	mix := func(v uint64) {
		h ^= v
		h *= 0x100000001b3 // FNV-1a's prime
		h ^= h >> 29
	}
	for i := range frames {
		f := &frames[i]
		mix(uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.Func)))))
		mix(uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.File)))))
		mix(uint64(f.Line))
		if addressFuncs[f.Func] {
			a := firstWord(f.Args)
			for j := 0; j < len(a); j++ {
				mix(uint64(a[j]))
			}
		}
	}
	sum := h
	for _, c := range s.shared[sum] {
		if sameFrames(c, frames) {
			return c
		}
	}
	c := slices.Clone(frames)
	if s.nShared < maxShared {
		if s.shared == nil {
			s.shared = make(map[uint64][][]Frame)
		}
		s.shared[sum] = append(s.shared[sum], c)
		s.nShared++
	}
	return c
}

func sameFrames(a, b []Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Func != y.Func || x.File != y.File || x.Line != y.Line ||
			x.Offset != y.Offset || x.Inlined != y.Inlined ||
			addressFuncs[x.Func] && firstWord(x.Args) != firstWord(y.Args) {
			return false
		}
	}
	return true
}

// seenID reports whether the open dump already has a goroutine with id.
func (s *scanner) seenID(id int64) bool {
	return id != 0 && s.ids.has(id)
}

// firstWord returns the first argument of an argument list.
func firstWord(args string) string {
	if i := strings.IndexByte(args, ','); i >= 0 {
		return args[:i]
	}
	return args
}

// idSet is a set of goroutine ids: a bitmap for the small ids the runtime
// hands out (one bit per id up to maxBitmapID, so 16 KiB for a dump of
// 100,000 goroutines), a map for the rest.
type idSet struct {
	bits  []uint64
	large map[int64]struct{}
}

// maxBitmapID bounds the bitmap at 2 MiB.
const maxBitmapID = 1 << 24

func (s *idSet) add(id int64) {
	if id >= 0 && id < maxBitmapID {
		w := int(id >> 6)
		if w >= len(s.bits) {
			s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
		}
		s.bits[w] |= 1 << (id & 63)
		return
	}
	if s.large == nil {
		s.large = make(map[int64]struct{})
	}
	s.large[id] = struct{}{}
}

func (s *idSet) has(id int64) bool {
	if id >= 0 && id < maxBitmapID {
		w := int(id >> 6)
		return w < len(s.bits) && s.bits[w]&(1<<(id&63)) != 0
	}
	_, ok := s.large[id]
	return ok
}

func (s *idSet) clear() {
	clear(s.bits)
	s.large = nil
}
