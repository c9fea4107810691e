package call

import (
	"time"

	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/rtpstream"
)

// The quality series of the streams of calls in progress (figures per
// qualityInterval, see rtpstream.Stats.Series) are bounded three ways: a
// stream keeps at most rtpstream.MaxIntervals intervals (merged two by
// two past that), a call keeps a series for its first maxSeriesStreams
// streams (SSRCs) only, and every interval kept is taken from the memory
// budget (limits.Series), seriesChunk intervals at a time. When the budget
// refuses, the stream's series stops where it is; each cut is counted
// (Stats.SeriesStopped, Stats.SeriesSkipped, the budget's evictions) and
// noted on the call.
const (
	maxSeriesStreams = 64
	seriesChunk      = 60 // intervals: five minutes at qualityInterval
	// intervalCost is what an interval kept costs: a
	// spanrec.QualityInterval (88 bytes on 64-bit platforms, checked by
	// TestSeriesIntervalCost) and the slack of its slice's growth.
	intervalCost = 128
)

// startSeries makes s, a new stream of c, keep a quality series if c has
// not reached maxSeriesStreams.
func (a *Assembler) startSeries(c *state, s *stream) {
	if c.seriesStreams >= maxSeriesStreams {
		a.stats.SeriesSkipped++
		c.note("quality over time is kept for the first %d RTP streams (SSRCs) of a call only: later ones have none", maxSeriesStreams)
		return
	}
	c.seriesStreams++
	s.stats.Interval = qualityInterval
}

// growSeries takes the next chunk of the budget for s's series, which has
// used what it took before; when the budget refuses, the series stops at
// t (its intervals so far kept).
func (a *Assembler) growSeries(c *state, s *stream, t time.Time) {
	if s.seriesCap >= rtpstream.MaxIntervals {
		return // the most a series keeps is taken already
	}
	n := int64(min(seriesChunk, rtpstream.MaxIntervals-s.seriesCap)) * intervalCost
	if !a.cfg.Budget.Take(limits.Series, n) {
		s.stats.StopSeries()
		s.seriesCap = rtpstream.MaxIntervals // nothing more to take
		a.cfg.Budget.Evicted(limits.Series, 0)
		a.stats.SeriesStopped++
		if !c.seriesStopped {
			c.seriesStopped = true
			c.note("from %s UTC on, quality over time was not kept for every stream: the recorder's memory limit (limits.memory) was reached", t.UTC().Format(time.TimeOnly))
		}
		return
	}
	c.seriesMem += n
	s.seriesCap += int(n / intervalCost)
}
