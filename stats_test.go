package spanrec_test

import (
	"testing"

	"github.com/spanrec/spanrec"
)

// TestHourSplit: the whole hours inside a range, for aligned and
// unaligned edges, a range inside one hour, and times before the epoch.
func TestHourSplit(t *testing.T) {
	h := spanrec.HourNS
	for _, tt := range []struct {
		from, to, width, lo, hi int64
		aligned                 bool
	}{
		{0, 24 * h, h, 0, 24 * h, true},
		{0, 24 * h, 20 * h / 60, 0, 24 * h, false},
		{h / 2, 3*h + h/2, h, h, 3 * h, false},
		{h / 4, h / 2, h, h / 2, h / 2, false},
		{-3*h - h/2, -h / 2, h, -3 * h, -h, false},
		{-2 * h, 0, 2 * h, -2 * h, 0, true},
	} {
		lo, hi, aligned := spanrec.HourSplit(tt.from, tt.to, tt.width)
		if lo != tt.lo || hi != tt.hi || aligned != tt.aligned {
			t.Errorf("HourSplit(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", tt.from, tt.to, tt.width, lo, hi, aligned, tt.lo, tt.hi, tt.aligned)
		}
	}
}
