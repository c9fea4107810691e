package call

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/rtpstream"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestSeriesIntervalCost: what the budget counts per interval is at least
// what one takes.
func TestSeriesIntervalCost(t *testing.T) {
	if n := unsafe.Sizeof(spanrec.QualityInterval{}); intervalCost < n {
		t.Errorf("intervalCost %d < %d bytes of a spanrec.QualityInterval", intervalCost, n)
	}
}

// feedCapture runs the capture of o through a, calling at for each
// decoded packet before it is handled (false: stop there).
func feedCapture(t *testing.T, a *Assembler, o pcaptest.Options, at func(p *packet.Packet) bool) {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	dec := packet.NewDecoder(packet.Config{})
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok {
			continue
		}
		if at != nil && !at(&p) {
			return
		}
		if sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil {
				a.HandleSIP(m, &p)
			}
			continue
		}
		a.HandleMedia(&p)
	}
}

// TestSeriesCountedAndStopped: the quality series of a 6-minute call's two
// streams are taken from the memory budget as they grow (five minutes of
// intervals at a time) and given back when the call ends; with a budget
// that holds the call and its first five minutes only, the series stop
// there, the rest of the call is still recorded, and the cut is counted
// and noted.
func TestSeriesCountedAndStopped(t *testing.T) {
	o := pcaptest.Options{Seed: 3, Calls: []pcaptest.Call{{Talk: 6 * time.Minute}}}
	chunk := int64(seriesChunk * intervalCost)
	run := func(t *testing.T, limit int64) (*Finished, *Assembler, *limits.Budget, map[time.Duration]int64) {
		budget := limits.New(limit)
		var fin *Finished
		a := NewAssembler(Config{DataDir: t.TempDir(), Budget: budget}, func(f *Finished) { fin = f })
		// What the series hold at moments of the call.
		held := map[time.Duration]int64{}
		var first time.Time
		feedCapture(t, a, o, func(p *packet.Packet) bool {
			if first.IsZero() {
				first = p.Time
			}
			for _, at := range []time.Duration{2 * time.Minute, 6 * time.Minute} {
				if _, ok := held[at]; !ok && p.Time.Sub(first) >= at {
					held[at] = budget.Stats().Kinds[limits.Series].Held
				}
			}
			return true
		})
		a.Close()
		if fin == nil {
			t.Fatal("no call")
		}
		if st := budget.Stats(); st.Kinds[limits.Series].Held != 0 || st.Used != 0 {
			t.Errorf("after the call: series hold %d bytes, the budget %d", st.Kinds[limits.Series].Held, st.Used)
		}
		return fin, a, budget, held
	}
	intervals := func(f *Finished) []int {
		var n []int
		for _, s := range f.Call.Streams {
			if s.Quality == nil {
				t.Fatalf("stream %08x has no quality", s.SSRC)
			}
			n = append(n, len(s.Quality.Intervals))
		}
		return n
	}

	// No limit: counted all the same, one chunk per stream for the first
	// five minutes, two after.
	fin, a, _, held := run(t, 0)
	if len(fin.Call.Streams) != 2 {
		t.Fatalf("%d streams, want 2", len(fin.Call.Streams))
	}
	if held[2*time.Minute] != 2*chunk || held[6*time.Minute] != 4*chunk {
		t.Errorf("series held %d bytes at 2 min, %d at 6 min; want %d and %d", held[2*time.Minute], held[6*time.Minute], 2*chunk, 4*chunk)
	}
	whole := intervals(fin)
	for _, n := range whole {
		if n < 6*60/5 {
			t.Errorf("a 6-minute stream has %d intervals of 5 s", n)
		}
	}
	if st := a.Stats(); st.SeriesStopped != 0 || st.SeriesSkipped != 0 {
		t.Errorf("no limit: %d series stopped, %d skipped", st.SeriesStopped, st.SeriesSkipped)
	}

	// A budget that holds the call, its tracks and one chunk per stream:
	// the series stop at five minutes of intervals.
	limit := int64(callCost+2*trackCost) + 2*chunk + chunk/2
	fin, a, budget, held := run(t, limit)
	if held[2*time.Minute] != 2*chunk || held[6*time.Minute] != 2*chunk {
		t.Errorf("limited: series held %d bytes at 2 min, %d at 6 min; want %d both", held[2*time.Minute], held[6*time.Minute], 2*chunk)
	}
	for i, n := range intervals(fin) {
		if n != seriesChunk {
			t.Errorf("limited: stream %d kept %d intervals, want %d (five minutes); %d without a limit", i, n, seriesChunk, whole[i])
		}
	}
	if st := a.Stats(); st.SeriesStopped != 2 {
		t.Errorf("limited: %d series counted stopped, want 2", st.SeriesStopped)
	}
	if ev := budget.Stats().Kinds[limits.Series].Evictions; ev != 2 {
		t.Errorf("limited: %d quality series evictions in the budget, want 2", ev)
	}
	if notes := strings.Join(fin.Call.Notes, "\n"); strings.Count(notes, "quality over time was not kept for every stream") != 1 {
		t.Errorf("limited: notes %q", fin.Call.Notes)
	}
	// The call itself is whole: its streams count every packet.
	if fin.Call.Duration < 6*time.Minute || fin.Call.Streams[0].Packets < 6*60*50 {
		t.Errorf("limited: call of %v, %d packets", fin.Call.Duration, fin.Call.Streams[0].Packets)
	}
}

// TestSeriesStreamsBounded: a caller that changes SSRC on every packet
// (hostile, or broken) makes a stream each; only the call's first
// maxSeriesStreams keep a quality series, the rest are counted and noted.
func TestSeriesStreamsBounded(t *testing.T) {
	const churn = maxSeriesStreams + 20
	o := pcaptest.Options{Seed: 4, Calls: []pcaptest.Call{{Talk: 10 * time.Second}}}
	var fin *Finished
	a := NewAssembler(Config{DataDir: t.TempDir()}, func(f *Finished) { fin = f })
	var caller packet.Packet
	n := 0
	feedCapture(t, a, o, func(p *packet.Packet) bool {
		if sipmsg.Looks(p.Payload) || !rtpstream.LooksRTP(p.Payload) {
			return true
		}
		if !caller.Src.IsValid() {
			caller = *p
		}
		if p.Src == caller.Src && n < churn {
			binary.BigEndian.PutUint32(p.Payload[8:], 0x7000_0000+uint32(n))
			n++
		}
		return true
	})
	a.Close()
	if fin == nil || n != churn {
		t.Fatalf("call %v, %d SSRCs made", fin != nil, n)
	}
	with, without := 0, 0
	for _, s := range fin.Call.Streams {
		if len(s.Quality.Intervals) > 0 {
			with++
		} else {
			without++
		}
	}
	// churn SSRCs from the caller, its last one sending on, and the
	// callee's: churn+2 streams.
	if with != maxSeriesStreams || without != churn+2-maxSeriesStreams {
		t.Errorf("%d streams with a quality series, %d without; want %d and %d", with, without, maxSeriesStreams, churn+2-maxSeriesStreams)
	}
	if st := a.Stats(); st.SeriesSkipped != churn+2-maxSeriesStreams {
		t.Errorf("%d streams counted without a series, want %d", st.SeriesSkipped, churn+2-maxSeriesStreams)
	}
	if notes := strings.Join(fin.Call.Notes, "\n"); !strings.Contains(notes, "quality over time is kept for the first 64 RTP streams") {
		t.Errorf("notes %q", fin.Call.Notes)
	}
}
