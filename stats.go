package spanrec

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// CallStats are the aggregates of the calls that started in [From, To),
// computed by the index for the dashboard.
type CallStats struct {
	From, To time.Time
	// Bucket is the width of Buckets, which start at From and cover
	// [From, To) with no gaps (the last may reach past To).
	Bucket   time.Duration
	Buckets  []StatsBucket
	Calls    int
	Answered int
	// MOS counts the streams that have a MOS (MOS > 0) in MOSBins bins of
	// width 0.5 from 1.0: MOS[i] counts MOS in [1+i/2, 1.5+i/2), the last
	// bin also 5.0. NoMOS counts the streams without one.
	MOS   [MOSBins]int
	NoMOS int
	// Loss is the packet loss by the host that sent the streams, most
	// packets lost first; at most the limit asked for.
	Loss []HostLoss
	// LossBySensor is the packet loss by the recorder (Call.Sensor) that
	// recorded the streams, most packets lost first; at most the limit
	// asked for. Host is the sensor's name there ("" for calls recorded
	// without one).
	LossBySensor []HostLoss
	// Talkers are the numbers in the most calls (as caller or callee),
	// most first; at most the limit asked for.
	Talkers []Talker
	// First and Last are the start times of the index's first and last
	// calls, whatever the range (zero if there are none).
	First, Last time.Time
}

// MOSBins is the number of bins of CallStats.MOS.
const MOSBins = 8

// StatsBucket counts the calls that started in [Start, Start+Bucket).
type StatsBucket struct {
	Start    time.Time
	Calls    int
	Answered int
}

// HostLoss is the RTP loss of the streams one host sent.
type HostLoss struct {
	Host    string // the address, without the port
	Streams int
	Packets int // received
	Lost    int // expected − received
}

// Talker is a number and the calls it took part in.
type Talker struct {
	Number   string
	Calls    int
	Answered int
	Talk     time.Duration // the sum of the calls' durations (answer to end)
}

// StatsQuery asks for the CallStats of the calls that started in
// [From, To), in buckets of Bucket, with up to Top hosts and talkers.
type StatsQuery struct {
	From, To time.Time
	Bucket   time.Duration
	Top      int
}

// TalkerCounts is what TopTalkers asks of an index that keeps per-hour
// and per-day call counts by number: the exact figures of the parts of a
// range (StatsSplit) whose whole hours and days are kept per number and
// whose edges (the partial hours) are counted from the calls.
type TalkerCounts interface {
	// Edges returns the talkers of the calls of the edges, all of them.
	Edges(ctx context.Context) (map[string]*Talker, error)
	// TopOf returns up to k numbers of the whole day (day true) or hour
	// that starts at start, the most calls first.
	TopOf(ctx context.Context, day bool, start int64, k int) ([]string, error)
	// Whole returns the talkers of the whole hours and days among
	// numbers.
	Whole(ctx context.Context, numbers []string) (map[string]*Talker, error)
	// AtLeast returns the numbers with at least calls calls in some whole
	// hour or day, or more = true (and no numbers) if there are more than
	// max.
	AtLeast(ctx context.Context, calls, max int) (numbers []string, more bool, err error)
	// All returns every number of the range with its figures, ordered and
	// cut as CallStats.Talkers is: the fallback, counted from the calls.
	All(ctx context.Context, top int) ([]Talker, error)
}

// maxTalkerCandidates bounds the numbers TopTalkers sums exactly before
// it falls back to counting every call of the range.
const maxTalkerCandidates = 20_000

// TopTalkers returns the top talkers of the range s (CallStats.Talkers:
// most calls first, then by number, at most top) from per-hour and per-day
// counts without summing every number's hours and days: a number in the
// true top has at least the calls L of the top-th of some numbers counted
// exactly (the seeds: the top of the first and last whole days, or hours
// if there are no whole days, and of the edges), so at least L/parts calls
// in one of the whole hours, whole days or the edges (parts of them in
// all); only the numbers that have are summed. The result is the exact
// one, as counting every call would give; where the calls are spread too
// thin for the bound to cut (more than 20 000 candidates) it counts every
// call.
func TopTalkers(ctx context.Context, c TalkerCounts, s StatsSplit, top int) ([]Talker, error) {
	edges, err := c.Edges(ctx)
	if err != nil {
		return nil, err
	}
	hours, days := s.HourStarts(), s.DayStarts()
	if len(hours)+len(days) == 0 {
		return rankTalkers(edges, top), nil
	}
	seeds := map[string]bool{}
	for _, t := range rankTalkers(edges, top) {
		seeds[t.Number] = true
	}
	first, day := hours, false
	if len(days) > 0 {
		first, day = days, true
	}
	for _, start := range []int64{first[0], first[len(first)-1]} {
		ns, err := c.TopOf(ctx, day, start, top)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			seeds[n] = true
		}
	}
	exact := func(numbers []string) (map[string]*Talker, error) {
		m, err := c.Whole(ctx, numbers)
		if err != nil {
			return nil, err
		}
		for _, n := range numbers {
			e := edges[n]
			if e == nil {
				continue
			}
			t := m[n]
			if t == nil {
				t = &Talker{Number: n}
				m[n] = t
			}
			t.Calls += e.Calls
			t.Answered += e.Answered
			t.Talk += e.Talk
		}
		return m, nil
	}
	m, err := exact(slices.Sorted(maps.Keys(seeds)))
	if err != nil {
		return nil, err
	}
	ranked := rankTalkers(m, top)
	if len(ranked) < top {
		return c.All(ctx, top)
	}
	bound := ranked[len(ranked)-1].Calls
	parts := len(hours) + len(days)
	if len(edges) > 0 {
		parts++
	}
	atLeast := (bound + parts - 1) / parts
	if atLeast <= 1 {
		return c.All(ctx, top)
	}
	cands, more, err := c.AtLeast(ctx, atLeast, maxTalkerCandidates)
	if err != nil {
		return nil, err
	}
	if more {
		return c.All(ctx, top)
	}
	set := map[string]bool{}
	for _, n := range cands {
		set[n] = true
	}
	for n, e := range edges {
		if e.Calls >= atLeast {
			set[n] = true
		}
	}
	for n := range seeds {
		set[n] = true
	}
	if m, err = exact(slices.Sorted(maps.Keys(set))); err != nil {
		return nil, err
	}
	return rankTalkers(m, top), nil
}

// rankTalkers returns the top talkers of m, most calls first, then by
// number (byte order, as the indexes sort).
func rankTalkers(m map[string]*Talker, top int) []Talker {
	l := make([]Talker, 0, len(m))
	for _, t := range m {
		if t.Calls > 0 {
			l = append(l, *t)
		}
	}
	slices.SortFunc(l, func(a, b Talker) int {
		if a.Calls != b.Calls {
			return b.Calls - a.Calls
		}
		return strings.Compare(a.Number, b.Number)
	})
	return l[:min(len(l), top)]
}

// HourNS is the width, in nanoseconds, of the per-hour aggregates both
// index backends keep for the dashboard.
const HourNS = int64(time.Hour)

// HourSplit returns the whole hours [lo, hi) of [from, to), all in
// nanoseconds since the epoch (lo = hi = to if there is none), and
// whether buckets of width starting at from are made of whole hours: what
// the index backends read from their per-hour aggregates, the edges
// being counted from the calls.
func HourSplit(from, to, width int64) (lo, hi int64, aligned bool) {
	floor := func(x int64) int64 { return x - ((x%HourNS)+HourNS)%HourNS }
	lo, hi = floor(from), floor(to)
	if lo < from {
		lo += HourNS
	}
	if lo >= hi {
		lo, hi = to, to
	}
	return lo, hi, floor(from) == from && width%HourNS == 0
}

// DayNS is the width, in nanoseconds, of the per-day aggregates both
// index backends keep for the dashboard (UTC days, which have no DST).
const DayNS = 24 * HourNS

// StatsSplit is where the index backends read each part of a dashboard
// range [From, To) from, all in nanoseconds since the epoch: the partial
// hours at its edges, [From, Lo) and [Hi, To), from the calls; the whole
// UTC days [DayLo, DayHi) from the per-day aggregates; the whole hours
// around them, [Lo, DayLo) and [DayHi, Hi), from the per-hour ones.
// Without a whole day DayLo = DayHi = Hi. Aligned says whether buckets of
// the query's width starting at From are made of whole hours.
type StatsSplit struct {
	From, To     int64
	Lo, Hi       int64
	DayLo, DayHi int64
	Aligned      bool
	// [spanLo, spanHi] holds every call's start (Within): the whole
	// hours and days outside hold none. spanHi < spanLo: no calls.
	spanLo, spanHi int64
	spanned        bool
}

// Within returns s whose HourStarts and DayStarts leave out the whole
// hours and days without a call because they end before first or start
// after last (the index's first and last starts, zero if it has no
// calls): what spanrec.TopTalkers divides its bound by.
func (s StatsSplit) Within(first, last time.Time) StatsSplit {
	s.spanned = true
	if first.IsZero() || last.IsZero() {
		s.spanLo, s.spanHi = 0, -1
		return s
	}
	s.spanLo, s.spanHi = first.UnixNano(), last.UnixNano()
	return s
}

// holds says whether the part [start, start+width) may hold calls.
func (s StatsSplit) holds(start, width int64) bool {
	return !s.spanned || (s.spanLo <= s.spanHi && start <= s.spanHi && start+width > s.spanLo)
}

// SplitStats splits the range [from, to) of buckets of width (ns).
func SplitStats(from, to, width int64) StatsSplit {
	lo, hi, aligned := HourSplit(from, to, width)
	s := StatsSplit{From: from, To: to, Lo: lo, Hi: hi, DayLo: hi, DayHi: hi, Aligned: aligned}
	if lo < math.MinInt64+DayNS || lo > math.MaxInt64-DayNS {
		return s // times nobody stores: no whole days
	}
	dlo := lo - ((lo%DayNS)+DayNS)%DayNS
	if dlo < lo {
		dlo += DayNS
	}
	dhi := hi - ((hi%DayNS)+DayNS)%DayNS
	if dlo < dhi {
		s.DayLo, s.DayHi = dlo, dhi
	}
	return s
}

// HourRanges returns the ranges of whole hours read from the per-hour
// aggregates: [Lo, DayLo) and [DayHi, Hi), either possibly empty.
func (s StatsSplit) HourRanges() [2][2]int64 {
	return [2][2]int64{{s.Lo, s.DayLo}, {s.DayHi, s.Hi}}
}

// HourStarts returns the start of each whole hour of HourRanges (that
// may hold calls, after Within).
func (s StatsSplit) HourStarts() []int64 {
	var l []int64
	for _, r := range s.HourRanges() {
		for h := r[0]; h < r[1]; h += HourNS {
			if s.holds(h, HourNS) {
				l = append(l, h)
			}
		}
	}
	return l
}

// DayStarts returns the start of each whole day [DayLo, DayHi) (that may
// hold calls, after Within).
func (s StatsSplit) DayStarts() []int64 {
	var l []int64
	for d := s.DayLo; d < s.DayHi; d += DayNS {
		if s.holds(d, DayNS) {
			l = append(l, d)
		}
	}
	return l
}
