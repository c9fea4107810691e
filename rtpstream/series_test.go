package rtpstream

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestSeriesCapture follows the caller's stream of Wireshark's SIP_DTMF2
// sample (PCMA, 665 packets, 2 lost by tshark's count) in 5 s intervals:
// the intervals add up to the stream's totals, the losses fall in the
// intervals where the sequence numbers skip, and a full interval holds
// 5 s of the stream's 30 ms packets.
func TestSeriesCapture(t *testing.T) {
	pkts := readUDP(t, filepath.Join(capturesDir(t), "wireshark-samples", "SIP_DTMF2.pcap"))
	s := Stats{Codec: "PCMA", Interval: 5 * time.Second}
	var first time.Time
	var prevSeq uint16
	gapAt := map[int]int{} // interval index → packets skipped there
	n := 0
	for _, p := range pkts {
		if p.src.String() != "192.168.105.110:4374" {
			continue
		}
		h, _, err := Parse(p.payload)
		if err != nil {
			continue
		}
		if n == 0 {
			first = p.time
		} else if d := h.Seq - prevSeq; d > 1 && d < 100 {
			gapAt[int(p.time.Sub(first)/(5*time.Second))] += int(d - 1)
		}
		prevSeq = h.Seq
		n++
		s.Update(h, p.time, 8000)
	}
	sn := s.Snapshot()
	if n != 665 || sn.Packets != 665 || sn.Lost != 2 {
		t.Fatalf("stream: %d packets read, snapshot %d packets %d lost; want tshark's 665 and 2", n, sn.Packets, sn.Lost)
	}
	ivs, width := s.Series()
	if width != 5*time.Second || len(ivs) != int(sn.Last.Sub(first)/(5*time.Second))+1 {
		t.Fatalf("%d intervals of %v for a %v stream", len(ivs), width, sn.Last.Sub(first))
	}
	var packets, lost, samples int
	var jsum float64
	for i, iv := range ivs {
		packets += iv.Packets
		lost += iv.Lost
		samples += iv.JitterSamples
		jsum += iv.MeanJitterMS * float64(iv.JitterSamples)
		if !iv.Start.Equal(first.Add(time.Duration(i) * 5 * time.Second)) {
			t.Errorf("interval %d starts at %v", i, iv.Start.Sub(first))
		}
		if iv.Lost != gapAt[i] {
			t.Errorf("interval %d: %d lost, the sequence numbers skip %d there", i, iv.Lost, gapAt[i])
		}
		if iv.Lost > 0 && !(iv.MOS > 1 && iv.MOS < ivs[0].MOS) {
			t.Errorf("interval %d with loss: MOS %.2f, first interval's %.2f", i, iv.MOS, ivs[0].MOS)
		}
		// A full interval holds 5 s of packets of the stream's 30 ms.
		if want := 5000 / sn.PacketisationMS; i < len(ivs)-1 && math.Abs(float64(iv.Packets+iv.Lost)-want) > 1.5 {
			t.Errorf("interval %d: %d packets + %d lost, want %.1f (5 s of %.0f ms packets)", i, iv.Packets, iv.Lost, want, sn.PacketisationMS)
		}
	}
	if packets != 665 || lost != 2 {
		t.Errorf("intervals add up to %d packets, %d lost; want 665 and 2", packets, lost)
	}
	if samples == 0 || math.Abs(jsum/float64(samples)-sn.MeanJitterMS) > 1e-9 {
		t.Errorf("intervals' mean jitter %.6f ms over %d packets, the stream's %.6f ms", jsum/float64(samples), samples, sn.MeanJitterMS)
	}
	if len(gapAt) == 0 {
		t.Error("found no sequence gap in the capture")
	}
}

// TestSeriesBounded sends a stream of 40 minutes with a 30 minute silence
// in the middle: the intervals stay within MaxIntervals, double in length
// when they must, keep every packet, and the silence shows as intervals
// with no packets.
func TestSeriesBounded(t *testing.T) {
	s := Stats{Codec: "PCMU", Interval: 5 * time.Second}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := Header{Version: 2}
	n := 0
	send := func(from, to time.Duration) {
		for at := from; at < to; at += 20 * time.Millisecond {
			h.Seq++
			h.Timestamp += 160
			s.Update(h, t0.Add(at), 8000)
			n++
		}
	}
	send(0, 5*time.Minute)
	send(35*time.Minute, 40*time.Minute)
	ivs, width := s.Series()
	if len(ivs) > MaxIntervals+1 || width != 10*time.Second {
		t.Fatalf("%d intervals of %v, want at most %d of 10s", len(ivs), width, MaxIntervals+1)
	}
	packets, empty := 0, 0
	for i, iv := range ivs {
		packets += iv.Packets
		if iv.Packets == 0 {
			empty++
		}
		if i > 0 && !iv.Start.Equal(ivs[i-1].Start.Add(width)) {
			t.Errorf("interval %d starts %v after the one before", i, iv.Start.Sub(ivs[i-1].Start))
		}
	}
	// The sequence numbers run on over the silence: nothing is lost.
	if packets != n || empty < 170 {
		t.Errorf("intervals hold %d of %d packets, %d empty; want all, and the 30 min silence empty", packets, n, empty)
	}
}

// TestStopSeries: a series stopped after a minute keeps that minute's
// intervals and adds none, while the stream's totals go on.
func TestStopSeries(t *testing.T) {
	s := Stats{Codec: "PCMU", Interval: 5 * time.Second}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := Header{Version: 2}
	n := 0
	send := func(from, to time.Duration) {
		for at := from; at < to; at += 20 * time.Millisecond {
			h.Seq++
			h.Timestamp += 160
			s.Update(h, t0.Add(at), 8000)
			n++
		}
	}
	send(0, time.Minute)
	if s.SeriesLen() != 11 { // the 12th interval is still open
		t.Fatalf("%d finished intervals after a minute, want 11", s.SeriesLen())
	}
	s.StopSeries()
	send(time.Minute, 3*time.Minute)
	ivs, width := s.Series()
	if len(ivs) != 11 || s.SeriesLen() != 11 || width != 5*time.Second {
		t.Errorf("stopped series: %d intervals (%d kept) of %v, want the 11 finished before the stop", len(ivs), s.SeriesLen(), width)
	}
	if last := ivs[len(ivs)-1]; !last.Start.Equal(t0.Add(50*time.Second)) || last.Packets != 250 {
		t.Errorf("last interval %v with %d packets, want 0:50 with 250", last.Start.Sub(t0), last.Packets)
	}
	if got := s.Snapshot().Packets; got != n {
		t.Errorf("totals count %d packets, want %d", got, n)
	}
}
