package spanrec_test

import (
	"testing"
	"time"

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

// TestSplitStats: the whole UTC days inside the whole hours of a range,
// none when the hours hold no whole day, before the epoch, and the parts
// left out by Within (no call there).
func TestSplitStats(t *testing.T) {
	h, d := spanrec.HourNS, spanrec.DayNS
	for _, tt := range []struct {
		from, to, width      int64
		lo, hi, dayLo, dayHi int64
		hours, days          int
	}{
		{0, 30 * d, d, 0, 30 * d, 0, 30 * d, 0, 30},
		{13 * h, 13*h + 7*d, h, 13 * h, 13*h + 7*d, d, 7 * d, 24, 6},
		{13*h + 5, 13*h + d, h, 14 * h, 13*h + d, 13*h + d, 13*h + d, 23, 0},
		{h / 2, 2*d + h/2, h, h, 2 * d, d, 2 * d, 23, 1},
		{-2*d - 3*h, -h / 2, h, -2*d - 3*h, -h, -2 * d, -d, 3 + 23, 1},
		{-3*d - 3*h, h, d, -3*d - 3*h, h, -3 * d, 0, 4, 3},
		{h / 4, h / 2, h, h / 2, h / 2, h / 2, h / 2, 0, 0},
	} {
		s := spanrec.SplitStats(tt.from, tt.to, tt.width)
		if s.Lo != tt.lo || s.Hi != tt.hi || s.DayLo != tt.dayLo || s.DayHi != tt.dayHi ||
			len(s.HourStarts()) != tt.hours || len(s.DayStarts()) != tt.days {
			t.Errorf("SplitStats(%d, %d, %d) = %+v with %d hours, %d days; want lo %d hi %d days [%d, %d), %d hours, %d days",
				tt.from, tt.to, tt.width, s, len(s.HourStarts()), len(s.DayStarts()), tt.lo, tt.hi, tt.dayLo, tt.dayHi, tt.hours, tt.days)
		}
	}
	// Three days from 12:00 (two whole days and 24 hours); calls from the
	// first whole day's 23:30 to the second's 00:00: only the two days
	// may hold calls.
	s := spanrec.SplitStats(12*h, 3*d+12*h, h)
	if len(s.DayStarts()) != 2 || len(s.HourStarts()) != 24 {
		t.Fatalf("SplitStats: %d days, %d hours; want 2, 24", len(s.DayStarts()), len(s.HourStarts()))
	}
	w := s.Within(time.Unix(0, d+23*h+h/2), time.Unix(0, 2*d))
	if got := w.DayStarts(); len(got) != 2 || got[0] != d || got[1] != 2*d {
		t.Errorf("Within: days %v; want [%d %d]", got, d, 2*d)
	}
	if got := w.HourStarts(); len(got) != 0 {
		t.Errorf("Within: hours %v; want none", got)
	}
	if got := s.Within(time.Time{}, time.Time{}); len(got.DayStarts())+len(got.HourStarts()) != 0 {
		t.Errorf("Within(no calls): %v %v; want no parts", got.DayStarts(), got.HourStarts())
	}
}
