package rtpstream

import (
	"time"

	"github.com/spanrec/spanrec"
)

// MaxIntervals bounds the intervals a [Stats] keeps: when a stream would
// have more, neighbouring intervals are merged two by two and the interval
// doubles, so a stream of any length costs at most this many.
const MaxIntervals = 360

// series is the per-interval state of a Stats with an Interval.
type series struct {
	// What every packet uses first: the open interval's end (its start
	// + width), and its own jitter figures.
	end                  time.Time
	stopped              bool // StopSeries was called: the intervals so far are kept, none is added
	sumJitter, maxJitter float64
	nJitter              int

	done  []spanrec.QualityInterval
	start time.Time     // of the open interval
	width time.Duration // current interval length
	// Counters at the start of the open interval.
	packets0, expected0, received0 int
}

// SeriesLen returns the number of finished intervals the Stats keeps (at
// most MaxIntervals), for the memory the caller accounts for.
func (s *Stats) SeriesLen() int { return len(s.series.done) }

// StopSeries stops the series where it is: the finished intervals are
// kept and Series returns them, but no interval is added (the open one is
// dropped). The caller stops a series it can no longer afford; the
// stream's totals (Snapshot) go on.
func (s *Stats) StopSeries() {
	if s.Interval <= 0 {
		return
	}
	s.series.stopped = true
}

// roll closes the intervals that end at or before t. It runs before the
// packet at t is counted.
func (s *Stats) roll(t time.Time) {
	if s.Interval <= 0 || s.series.stopped {
		return
	}
	sr := &s.series
	if sr.width == 0 {
		sr.width, sr.start = s.Interval, t
		sr.end = sr.start.Add(sr.width)
		return
	}
	if t.Before(sr.end) {
		// In the open interval, the usual case; or before it (out of
		// capture order): counted in the open interval.
		return
	}
	for !t.Before(sr.start.Add(sr.width)) {
		sr.done = append(sr.done, s.openInterval())
		sr.start = sr.start.Add(sr.width)
		sr.packets0, sr.expected0, sr.received0 = s.packets, s.expected(), s.prevRecv+s.received
		sr.sumJitter, sr.maxJitter, sr.nJitter = 0, 0, 0
		if len(sr.done) >= MaxIntervals {
			s.mergeIntervals()
		}
		// A long gap (no packets): skip whole empty intervals at once.
		if gap := t.Sub(sr.start); gap >= 2*sr.width && len(sr.done) > 0 {
			n := int(gap / sr.width)
			n = min(n, MaxIntervals-len(sr.done))
			for range n {
				sr.done = append(sr.done, spanrec.QualityInterval{Start: sr.start})
				sr.start = sr.start.Add(sr.width)
			}
			if len(sr.done) >= MaxIntervals {
				s.mergeIntervals()
			}
		}
	}
	sr.end = sr.start.Add(sr.width)
}

// expected is the packets the sequence numbers call for so far.
func (s *Stats) expected() int {
	if !s.started {
		return 0
	}
	return s.prevExp + s.expectedRun()
}

// openInterval returns the figures of the open interval so far.
func (s *Stats) openInterval() spanrec.QualityInterval {
	sr := &s.series
	iv := spanrec.QualityInterval{
		Start:         sr.start,
		Packets:       s.packets - sr.packets0,
		Expected:      s.expected() - sr.expected0,
		JitterSamples: sr.nJitter,
		MaxJitterMS:   sr.maxJitter / 1e6,
	}
	iv.Lost = max(0, iv.Expected-(s.prevRecv+s.received-sr.received0))
	if sr.nJitter > 0 {
		iv.MeanJitterMS = sr.sumJitter / float64(sr.nJitter) / 1e6
	}
	s.scoreInterval(&iv)
	return iv
}

func (s *Stats) scoreInterval(iv *spanrec.QualityInterval) {
	iv.MOS = 0
	if iv.Packets == 0 {
		return
	}
	var lossPct float64
	if iv.Expected > 0 {
		lossPct = 100 * float64(iv.Lost) / float64(iv.Expected)
	}
	iv.MOS = MOS(s.Codec, lossPct, iv.MeanJitterMS, s.ptime/1e6)
}

// mergeIntervals merges the finished intervals two by two. It runs when
// there are MaxIntervals (an even number) of them, so the open interval,
// which starts where the last one ended, stays aligned to the new width.
func (s *Stats) mergeIntervals() {
	sr := &s.series
	out := sr.done[:0]
	for i := 0; i < len(sr.done); i += 2 {
		a := sr.done[i]
		if i+1 < len(sr.done) {
			b := sr.done[i+1]
			n := a.JitterSamples + b.JitterSamples
			if n > 0 {
				a.MeanJitterMS = (a.MeanJitterMS*float64(a.JitterSamples) + b.MeanJitterMS*float64(b.JitterSamples)) / float64(n)
			}
			a.JitterSamples = n
			a.MaxJitterMS = max(a.MaxJitterMS, b.MaxJitterMS)
			a.Packets += b.Packets
			a.Expected += b.Expected
			a.Lost += b.Lost
			s.scoreInterval(&a)
		}
		out = append(out, a)
	}
	sr.done = out
	sr.width *= 2
	// The open interval started at the end of the last merged one.
	if n := len(sr.done); n > 0 {
		sr.start = sr.done[n-1].Start.Add(sr.width)
	}
}

// noteJitter records a jitter figure of a packet that counts (see timing)
// in the open interval.
func (s *Stats) noteJitter(j float64) {
	if s.Interval <= 0 || s.series.stopped {
		return
	}
	s.series.sumJitter += j
	s.series.nJitter++
	s.series.maxJitter = max(s.series.maxJitter, j)
}

// Series returns the stream's figures per interval of capture time, the
// open interval included (unless StopSeries stopped it), and the
// interval's current length: nil unless Stats.Interval was set before the
// first packet.
func (s *Stats) Series() ([]spanrec.QualityInterval, time.Duration) {
	if s.Interval <= 0 || !s.started {
		return nil, 0
	}
	out := make([]spanrec.QualityInterval, len(s.series.done), len(s.series.done)+1)
	copy(out, s.series.done)
	if s.series.stopped {
		return out, s.series.width
	}
	if open := s.openInterval(); open.Packets > 0 || open.Expected > 0 {
		out = append(out, open)
	}
	return out, s.series.width
}
