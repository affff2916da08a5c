package htmlreport

import (
	"math"
	"strconv"
	"strings"
)

// This file closes the lanes of a big run: the bars of passed and skipped
// tests leave the HTML for compact JSON that the page's script draws when
// a lane is opened, and each closed lane shows a density curve of them
// instead. Bars of tests that failed, hung or were interrupted stay in the
// HTML, packed in rows of their own, so that they are seen (and found by
// the hangs' links) without opening anything.

// laneData is the JSON of the bars left out of the HTML, one entry per
// lane in the order of the lanes. Column arrays, to keep it small: about
// 30 bytes a test against 200 for a bar in HTML.
type laneData struct {
	SpanMs int64      `json:"span"` // the timeline's span, ms
	Row    int        `json:"row"`  // pixels per row
	Lanes  []laneBars `json:"lanes"`
}

// laneBars are the lazy bars of one lane.
type laneBars struct {
	Names   []string `json:"t"`
	Results string   `json:"r"` // one letter per bar: p pass, s skip
	Start   []int64  `json:"s"` // ms since the timeline's start
	Dur     []int64  `json:"d"` // ms
	Rows    []int    `json:"w"` // row in the open lane
}

// densityBuckets is the resolution of a closed lane's density curve (a
// bucket is half a percent of the timeline); densityHeight its height in
// pixels.
const (
	densityBuckets = 200
	densityHeight  = 14
)

// collapse closes every lane.
func (tl *timeline) collapse() {
	tl.Collapsed = true
	tl.Data = &laneData{SpanMs: int64(math.Round(tl.Span * 1000)), Row: rowHeight + rowGap}
	tl.Data.Lanes = make([]laneBars, len(tl.Lanes))
	for i := range tl.Lanes {
		l := &tl.Lanes[i]
		lb := &tl.Data.Lanes[i]
		lb.Names, lb.Start, lb.Dur, lb.Rows = []string{}, []int64{}, []int64{}, []int{}
		var results strings.Builder
		density := make([]float64, densityBuckets)
		var keep []bar
		var rows []float64 // right ends of the closed lane's rows
		l.Tests = len(l.Bars)
		for _, b := range l.Bars {
			if (b.Result == "pass" || b.Result == "skip") && b.HangID == "" {
				lb.Names = append(lb.Names, b.Name)
				results.WriteByte(b.Result[0])
				lb.Start = append(lb.Start, b.startMs)
				lb.Dur = append(lb.Dur, b.durMs)
				lb.Rows = append(lb.Rows, int(b.Top)/(rowHeight+rowGap))
				addDensity(density, b.Left, b.Width)
				continue
			}
			r := 0
			for r < len(rows) && rows[r] > b.Left {
				r++
			}
			if r == len(rows) {
				rows = append(rows, 0)
			}
			rows[r] = b.Left + b.Width
			b.ClosedTop = float64(r * (rowHeight + rowGap))
			keep = append(keep, b)
		}
		lb.Results = results.String()
		l.Lazy = len(lb.Names)
		l.Bars = keep
		l.Density = densityPath(density)
		l.ClosedHeight = len(rows)*(rowHeight+rowGap) + rowGap + densityHeight
	}
}

// addDensity adds a bar from left to left+width (percentages of the
// timeline) to the buckets, by how much of each bucket it covers: a
// bucket's value is the mean number of tests running in it.
func addDensity(d []float64, left, width float64) {
	per := 100.0 / float64(len(d))
	from, to := left/per, (left+width)/per
	if to-from < 0.05 {
		to = from + 0.05 // an instant test still counts
	}
	for k := max(0, int(from)); k < len(d) && float64(k) < to; k++ {
		d[k] += math.Min(float64(k+1), to) - math.Max(float64(k), from)
	}
}

// densityPath draws the buckets as a step curve in a 200×10 SVG box,
// filled from the bottom, scaled to the fullest bucket.
func densityPath(d []float64) string {
	top := 0.0
	for _, v := range d {
		top = math.Max(top, v)
	}
	if top == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("M0 10")
	last := "10"
	for k, v := range d {
		y := strconv.FormatFloat(10-math.Round(100*v/top)/10, 'f', -1, 64)
		if y != last {
			b.WriteString("H" + strconv.Itoa(k) + "V" + y)
			last = y
		}
	}
	b.WriteString("H" + strconv.Itoa(len(d)) + "V10Z")
	return b.String()
}
