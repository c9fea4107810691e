package rtpstream_test

import (
	"testing"
	"time"

	"github.com/spanrec/spanrec/rtpstream"
)

// benchPackets returns n PCMA packets of one stream, 20 ms apart, with a
// little jitter, a loss every 97 packets and a reordering every 101.
func benchPackets(n int) ([][]byte, []time.Time) {
	pkts := make([][]byte, 0, n)
	times := make([]time.Time, 0, n)
	for i := 0; len(pkts) < n; i++ {
		seq := uint16(i)
		if i%101 == 50 {
			seq++
		} else if i%101 == 51 {
			seq--
		}
		if i%97 == 0 {
			continue
		}
		pkts = append(pkts, rtpPacket(0x80, 8, seq, uint32(seq)*160, 0x1234, make([]byte, 160)...))
		times = append(times, testStart.Add(time.Duration(i)*20*time.Millisecond+time.Duration(i%7)*100*time.Microsecond))
	}
	return pkts, times
}

// benchN is the number of distinct packets a benchmark cycles through; a
// power of two, so that the loop indexes them with a mask.
const benchN = 1024

func reportRate(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkParse(b *testing.B) {
	pkts, _ := benchPackets(benchN)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, _, err := rtpstream.Parse(pkts[n&(benchN-1)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRate(b, n)
}

func BenchmarkStatsUpdate(b *testing.B) {
	pkts, times := benchPackets(benchN)
	hs := make([]rtpstream.Header, len(pkts))
	for i, p := range pkts {
		hs[i], _, _ = rtpstream.Parse(p)
	}
	var s rtpstream.Stats
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := n & (benchN - 1)
		s.Update(hs[i], times[i], 8000)
		n++
	}
	reportRate(b, n)
}

// BenchmarkParseUpdate is the per-packet cost on the recorder's hot path.
func BenchmarkParseUpdate(b *testing.B) {
	pkts, times := benchPackets(benchN)
	var s rtpstream.Stats
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := n & (benchN - 1)
		h, _, err := rtpstream.Parse(pkts[i])
		if err != nil {
			b.Fatal(err)
		}
		s.Update(h, times[i], 8000)
		n++
	}
	reportRate(b, n)
}
