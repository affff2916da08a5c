package stackparse

// LocationFrame returns the frame whose file and line stand for f, a frame
// of g: f itself when its location was printed, else the next frame
// outward (towards the function the goroutine started in) that has one,
// else the go statement that started the goroutine (CreatedBy), else the
// nearest frame inward. cut reports that f's own location line was
// missing or cut off in the input, so that the frame returned is another
// one; a caller should say so rather than print ":0". When no frame of g
// has a location, f is returned with cut set.
func (g *Goroutine) LocationFrame(f Frame) (loc Frame, cut bool) {
	if f.File != "" {
		return f, false
	}
	at := -1
	for i := range g.Frames {
		if g.Frames[i] == f {
			at = i
			break
		}
	}
	if at < 0 {
		return f, true
	}
	for i := at + 1; i < len(g.Frames); i++ {
		if g.Frames[i].File != "" {
			return g.Frames[i], true
		}
	}
	if g.CreatedBy != nil && g.CreatedBy.File != "" {
		return *g.CreatedBy, true
	}
	for i := at - 1; i >= 0; i-- {
		if g.Frames[i].File != "" {
			return g.Frames[i], true
		}
	}
	return f, true
}
